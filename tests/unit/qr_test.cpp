#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "core/credential.hpp"
#include "core/qr.hpp"

namespace {

struct CommandOutput {
    int status = -1;
    std::string out;
};

// Runs a shell command and captures its standard output.
CommandOutput run(const std::string& command)
{
    CommandOutput result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) result.out.append(chunk, n);
    result.status = pclose(pipe);
    return result;
}

// The round trip needs the real tools: a missing one is a broken test machine, not a
// reason to skip the only check that a scanner can read what we draw.
void require_tool(const std::string& tool, const std::string& debian_package)
{
    const bool found = run("command -v " + tool + " >/dev/null 2>&1").status == 0;
    if (!found) {
        FAIL(tool << " is not installed: install the Debian package " << debian_package
                  << " (apt-get install " << debian_package << ")");
    }
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A scratch directory, removed with everything in it when the test ends.
struct ScratchDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("ck-qr-test-" + std::to_string(getpid()));
    ScratchDir() { std::filesystem::create_directories(path); }
    ~ScratchDir() { std::filesystem::remove_all(path); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

// Draws `text` as SVG, rasterises it with rsvg-convert and reads it back with zbarimg.
// zbarimg's standard error (it chatters about D-Bus) is kept for failure messages only.
std::string scan(const std::string& text, bool standalone = true)
{
    ScratchDir dir;
    const auto svg = dir.path / "code.svg";
    const auto png = dir.path / "code.png";
    const auto errors = dir.path / "errors.txt";
    std::ofstream(svg) << ck::qr_svg(text, {}, standalone);
    const auto render = run("rsvg-convert -o '" + png.string() + "' '" + svg.string() + "' 2>'" +
                            errors.string() + "'");
    REQUIRE_MESSAGE(render.status == 0, "rsvg-convert failed: " << read_file(errors));
    const auto decoded = run("zbarimg --raw -q '" + png.string() + "' 2>'" + errors.string() + "'");
    REQUIRE_MESSAGE(decoded.status == 0, "zbarimg read no QR code: " << read_file(errors));
    std::string out = decoded.out;
    if (!out.empty() && out.back() == '\n') out.pop_back();  // zbarimg ends each symbol with one
    return out;
}

std::string typical_credential(const ck::SigningKey& key)
{
    return key.issue({0, "ecnr-2026-2-m3", "ECNR-10427", 1});
}

std::string maximal_credential(const ck::SigningKey& key)
{
    return key.issue({0, std::string(32, 'm'), std::string(64, 'A'), 65535});
}

int count(const std::string& haystack, const std::string& needle)
{
    int n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("qr_version_for follows the alphanumeric capacities at ECC M")
{
    struct Case {
        std::size_t length;  // of an alphanumeric text
        int version;
    };
    const Case cases[] = {
        {0, 1},   {20, 1},   {21, 2},   {154, 6},   {155, 7},  {178, 7},
        {179, 8}, {311, 10}, {312, 11}, {3391, 40}, {3392, 0},
    };
    for (const Case& c : cases) {
        CAPTURE(c.length);
        CHECK(ck::qr_version_for(std::string(c.length, 'A')) == c.version);
    }
}

TEST_CASE("credentials fit small QR codes: typical version 7, maximal version 10")
{
    const ck::SigningKey key = ck::SigningKey::generate();
    const std::string typical = typical_credential(key);
    CHECK(typical.size() == 156);
    CHECK(ck::qr_version_for(typical) <= 7);
    const std::string maximal = maximal_credential(key);
    CHECK(maximal.size() == 271);
    CHECK(ck::qr_version_for(maximal) <= 10);
}

TEST_CASE("qr_svg draws a crisp SVG in module units")
{
    const std::string text = "AEQ74MO7BZSWG3TSFUZDAMRWFUZC";  // 28 alphanumerics: version 2
    REQUIRE(ck::qr_version_for(text) == 2);
    const std::string modules = std::to_string(4 * 2 + 17 + 2 * 4);  // 33

    const std::string svg = ck::qr_svg(text, {.module_px = 5, .quiet_zone = 4});
    CHECK(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0) == 0);
    CHECK(svg.find("viewBox=\"0 0 " + modules + " " + modules + "\"") != std::string::npos);
    CHECK(svg.find("width=\"165\" height=\"165\"") != std::string::npos);
    CHECK(svg.find("shape-rendering=\"crispEdges\"") != std::string::npos);
    CHECK(svg.find("<rect width=\"" + modules + "\" height=\"" + modules + "\" fill=\"#fff\"/>") !=
          std::string::npos);
    CHECK(count(svg, "<path ") == 1);
    CHECK(svg.find("M4,4h7v1h-7z") != std::string::npos);  // the top of the finder pattern

    const std::string inline_svg = ck::qr_svg(text, {.module_px = 1, .quiet_zone = 0}, false);
    CHECK(inline_svg.rfind("<svg ", 0) == 0);
    CHECK(inline_svg.find("<?xml") == std::string::npos);
    CHECK(inline_svg.find("viewBox=\"0 0 25 25\"") != std::string::npos);
    CHECK(inline_svg.find("M0,0h7v1h-7z") != std::string::npos);
}

TEST_CASE("qr_svg refuses what it cannot draw")
{
    CHECK_THROWS_AS(ck::qr_svg(std::string(7000, 'A')), std::length_error);
    CHECK(ck::qr_version_for(std::string(7000, 'A')) == 0);
    CHECK_THROWS_AS(ck::qr_svg("A", {.module_px = 0, .quiet_zone = 4}), std::invalid_argument);
    CHECK_THROWS_AS(ck::qr_svg("A", {.module_px = 4, .quiet_zone = -1}), std::invalid_argument);
}

TEST_CASE("a scanner reads back exactly what was drawn (rsvg-convert and zbarimg)")
{
    require_tool("rsvg-convert", "librsvg2-bin");
    require_tool("zbarimg", "zbar-tools");
    const ck::SigningKey key = ck::SigningKey::generate();
    const std::string typical = typical_credential(key);
    const std::string maximal = maximal_credential(key);
    const std::string url = "http://127.0.0.1:8080/p?t=ABC";
    struct Case {
        const char* what;
        std::string text;
        bool standalone;
    };
    const Case cases[] = {
        {"typical credential", typical, true},
        {"maximal credential", maximal, true},
        {"URL", url, true},
        {"inline <svg> element", typical, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.what);
        const std::string scanned = scan(c.text, c.standalone);
        CHECK(scanned == c.text);
    }

    const std::string scanned = scan(typical);
    const auto verified = ck::verify_credential(scanned, {{key.key_id(), key.public_key()}});
    REQUIRE(verified.is_ok());
    CHECK(verified->attendee_id == "ECNR-10427");
}
