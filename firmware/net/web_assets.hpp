// The pages of web/, embedded at build time (cmake/embed_web.cmake), or read from a
// directory on disk during development (serve --web-dir web). Each program has its own
// table, generated: the device its pages (http/embedded_web.hpp), the registry its own.
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

struct WebFile {
    std::string mime;
    std::string body;
    std::string etag;  // strong validator of `body`, quoted: "\"<hex>\""
};

// The files of one embedded table, with their ETags (a hash of the bytes, computed once).
class WebFiles {
public:
    explicit WebFiles(const std::vector<WebAsset>& table);

    // Looks `path` up in `dev_dir` when that is not empty (never leaving it; the ETag then
    // computed at every read, so an edited file gets a new one at once), else in the table.
    std::optional<WebFile> find(std::string_view path, const std::string& dev_dir) const;

private:
    const std::vector<WebAsset>& table_;
    std::vector<std::string> etags_;
};

// Whether an If-None-Match header value names `etag`: "*", or one of its comma-separated
// tags, compared weakly (a W/ prefix ignored), as RFC 9110 section 13.1.2 asks for GET.
// False for an empty header.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace ck
