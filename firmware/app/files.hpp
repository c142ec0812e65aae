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
// Refuses (`insecure_permissions`) a file that grants any of `forbidden` mode bits, e.g.
// 0077 for a secret only its owner may read. An absent file passes.
Status check_private_file(const std::string& path, unsigned forbidden);
// The data directory can be used: it exists and this user may enter it.
Status check_data_dir_usable(const std::string& path);

}  // namespace ck
