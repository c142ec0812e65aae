#include "net/web_assets.hpp"

#include <fstream>
#include <sstream>

#include "core/password.hpp"

namespace ck {
namespace {

std::string mime_for(std::string_view path)
{
    auto ends = [&](std::string_view ext) {
        return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
    };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".png")) return "image/png";
    return "application/octet-stream";
}

// Only plain names below the directory: no "..", no hidden files, no backslashes.
bool safe_path(std::string_view path)
{
    if (path.empty() || path.front() != '/') return false;
    for (std::size_t i = 0; i < path.size(); ++i) {
        char ch = path[i];
        if (ch == '\\' || ch == '\0') return false;
        if (ch == '.' && (i == 0 || path[i - 1] == '/')) return false;
    }
    return true;
}

// 128 bits of SHA-256: the same bytes always get the same tag, across restarts and
// firmware versions, and different bytes practically never do.
std::string etag_of(std::string_view bytes)
{
    return "\"" + sha256_hex(bytes).substr(0, 32) + "\"";
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

WebFiles::WebFiles(const std::vector<WebAsset>& table) : table_(table)
{
    for (const auto& asset : table_) {
        etags_.push_back(etag_of(std::string_view(asset.data, asset.size)));
    }
}

std::optional<WebFile> WebFiles::find(std::string_view path, const std::string& dev_dir) const
{
    if (!safe_path(path)) return std::nullopt;
    if (!dev_dir.empty()) {
        std::ifstream in(dev_dir + std::string(path), std::ios::binary);
        if (!in) return std::nullopt;
        std::stringstream buffer;
        buffer << in.rdbuf();
        std::string body = buffer.str();
        std::string etag = etag_of(body);
        return WebFile{mime_for(path), std::move(body), std::move(etag)};
    }
    for (std::size_t i = 0; i < table_.size(); ++i) {
        if (path == table_[i].path) {
            return WebFile{table_[i].mime, std::string(table_[i].data, table_[i].size), etags_[i]};
        }
    }
    return std::nullopt;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag)
{
    while (!if_none_match.empty()) {
        std::size_t comma = if_none_match.find(',');
        std::string_view tag = trim(if_none_match.substr(0, comma));
        if_none_match =
            comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
        if (tag == "*") return true;
        if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
        if (tag == etag) return true;
    }
    return false;
}

}  // namespace ck
