// Small file-system helpers for the edges (never used by the core).
#pragma once

#include <optional>
#include <string>

#include "core/status.hpp"

namespace ck {

std::optional<std::string> read_file(const std::string& path);
// Writes atomically (temporary file, fsync, rename, fsync of the directory) with `mode`.
Status write_file_atomic(const std::string& path, const std::string& content, unsigned mode);
// mkdir -p with `mode` for the directories it creates.
Status make_directories(const std::string& path, unsigned mode);
bool path_exists(const std::string& path);

}  // namespace ck
