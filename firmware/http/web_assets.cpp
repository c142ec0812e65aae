#include "http/web_assets.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace

std::optional<WebFile> find_web_file(std::string_view path, const std::string& dev_dir)
{
    if (!safe_path(path)) return std::nullopt;
    if (!dev_dir.empty()) {
        std::ifstream in(dev_dir + std::string(path), std::ios::binary);
        if (!in) return std::nullopt;
        std::stringstream buffer;
        buffer << in.rdbuf();
        return WebFile{mime_for(path), buffer.str()};
    }
    for (const auto& asset : embedded_web_assets()) {
        if (path == asset.path) return WebFile{asset.mime, std::string(asset.data, asset.size)};
    }
    return std::nullopt;
}

}  // namespace ck
