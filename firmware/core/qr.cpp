#include "core/qr.hpp"

#include <qrcodegen.hpp>

#include <stdexcept>
#include <vector>

namespace ck {
namespace {

using qrcodegen::QrCode;
using qrcodegen::QrSegment;

// The most compact segments (numeric, alphanumeric or bytes) for `text`. qrcodegen reads a
// C string, so text with a NUL byte in it is encoded as bytes, whole.
std::vector<QrSegment> segments_for(std::string_view text)
{
    if (text.find('\0') != std::string_view::npos) {
        return {QrSegment::makeBytes(std::vector<std::uint8_t>(text.begin(), text.end()))};
    }
    return QrSegment::makeSegments(std::string(text).c_str());
}

// Dark modules as one path: a rectangle per horizontal run, in module units.
std::string dark_modules_path(const QrCode& qr, int offset)
{
    std::string d;
    const int size = qr.getSize();
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size;) {
            if (!qr.getModule(x, y)) {
                ++x;
                continue;
            }
            int run = 1;
            while (x + run < size && qr.getModule(x + run, y)) ++run;
            // Appended piece by piece: `"M" + std::to_string(...)` trips GCC 12's -Wrestrict
            // false positive at -O3.
            d.append("M").append(std::to_string(x + offset)).append(",");
            d.append(std::to_string(y + offset)).append("h").append(std::to_string(run));
            d.append("v1h-").append(std::to_string(run)).append("z");
            x += run;
        }
    }
    return d;
}

}  // namespace

std::string qr_svg(std::string_view text, const QrOptions& options, bool standalone)
{
    if (options.module_px < 1) throw std::invalid_argument("QR module_px must be at least 1");
    if (options.quiet_zone < 0) throw std::invalid_argument("QR quiet_zone must not be negative");
    // Throws qrcodegen::data_too_long, a std::length_error, when nothing fits.
    const QrCode qr = QrCode::encodeSegments(segments_for(text), QrCode::Ecc::MEDIUM,
                                             QrCode::MIN_VERSION, QrCode::MAX_VERSION, -1, true);
    const std::string modules = std::to_string(qr.getSize() + 2 * options.quiet_zone);
    const std::string px =
        std::to_string((qr.getSize() + 2 * options.quiet_zone) * options.module_px);

    std::string svg;
    if (standalone) svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + px +
           "\" height=\"" + px + "\" viewBox=\"0 0 " + modules + " " + modules +
           "\" shape-rendering=\"crispEdges\">";
    svg += "<rect width=\"" + modules + "\" height=\"" + modules + "\" fill=\"#fff\"/>";
    svg += "<path d=\"" + dark_modules_path(qr, options.quiet_zone) + "\" fill=\"#000\"/>";
    svg += "</svg>";
    if (standalone) svg += "\n";
    return svg;
}

int qr_version_for(std::string_view text)
{
    try {
        // The version does not depend on the mask, so mask 0 skips the costly mask search.
        return QrCode::encodeSegments(segments_for(text), QrCode::Ecc::MEDIUM, QrCode::MIN_VERSION,
                                      QrCode::MAX_VERSION, 0, false)
            .getVersion();
    } catch (const std::length_error&) {  // qrcodegen::data_too_long, or text too long
        return 0;
    }
}

}  // namespace ck
