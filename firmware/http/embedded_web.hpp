// The device's pages (web/), embedded at build time: the table cmake/embed_web.cmake
// generates into the build directory.
#pragma once

#include <vector>

#include "net/web_assets.hpp"

namespace ck {

const std::vector<WebAsset>& embedded_web_assets();

}  // namespace ck
