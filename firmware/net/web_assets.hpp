// The pages of web/, embedded at build time (cmake/embed_web.cmake), or read from a
// directory on disk during development (serve --web-dir web). Each program links its own
// table (`embedded_web_assets`, generated): the device its pages, the registry its own.
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
    std::string etag;  // strong validator of `body`, quoted: "\"<hex>\""
};

// Looks `path` up in `dev_dir` when that is not empty (never leaving it), else in the
// embedded table. The ETag is a hash of the bytes: of an embedded file computed once
// (at the first lookup), of a file on disk at every read, so an edited file gets a new
// one at once.
std::optional<WebFile> find_web_file(std::string_view path, const std::string& dev_dir);

// Whether an If-None-Match header value names `etag`: "*", or one of its comma-separated
// tags, compared weakly (a W/ prefix ignored), as RFC 9110 section 13.1.2 asks for GET.
// False for an empty header.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace ck
