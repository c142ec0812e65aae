// QR code rendering (qrcodegen) of credential texts and URLs.
#pragma once

#include <string>
#include <string_view>

namespace ck {

struct QrOptions {
    int module_px = 4;   // size of one QR module in SVG user units (>= 1)
    int quiet_zone = 4;  // modules of white border (the QR standard asks for 4; >= 0)
};

// An SVG document (or, with `standalone` false, an <svg> element to inline in HTML) of
// the QR code of `text` at error correction M or better (better when it costs no size).
// The viewBox is in QR modules; width and height are module_px per module. Throws
// std::length_error if the text does not fit a QR code, std::invalid_argument for options
// out of range.
std::string qr_svg(std::string_view text, const QrOptions& options = {}, bool standalone = true);
// Version (1..40) of the smallest QR code at ECC M that holds `text`; 0 if none does.
int qr_version_for(std::string_view text);

}  // namespace ck
