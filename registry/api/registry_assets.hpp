// What the registry embeds at build time (cmake/embed_web.cmake): the request schema it
// checks batches against, and its pages.
#pragma once

#include <vector>

#include "net/web_assets.hpp"

namespace ck {

const std::vector<WebAsset>& registry_web_assets();

}  // namespace ck
