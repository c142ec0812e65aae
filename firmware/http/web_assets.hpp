// The pages of web/, embedded at build time (cmake/embed_web.cmake), or read from a
// directory on disk during development (serve --web-dir web).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

struct WebAsset {
    const char* path;  // "/index.html"
    const char* mime;
    const char* data;
    std::size_t size;
};

const std::vector<WebAsset>& embedded_web_assets();

struct WebFile {
    std::string mime;
    std::string body;
};

// Looks `path` up in `dev_dir` when that is not empty (never leaving it), else in the
// embedded table.
std::optional<WebFile> find_web_file(std::string_view path, const std::string& dev_dir);

}  // namespace ck
