#include "app/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ck {

std::optional<std::string> read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

bool path_exists(const std::string& path)
{
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

Status check_private_file(const std::string& path, unsigned forbidden)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Status::ok();
    if ((st.st_mode & forbidden) == 0) return Status::ok();
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777U);
    char fix[8];
    std::snprintf(fix, sizeof fix, "%04o", st.st_mode & 07777U & ~forbidden);
    return Status::error(err::insecure_permissions,
                         path + " is a secret but other users may read it (mode " + mode + ")",
                         "Run: chmod " + std::string(fix) + " " + path);
}

Status check_data_dir_usable(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ENOENT) {
            return Status::error(err::invalid_config,
                                 "the data directory " + path + " does not exist",
                                 "Run `course-kiosk init --data " + path +
                                     " --config FILE` first, or check --data.");
        }
        return Status::error(err::storage_unavailable,
                             "cannot open the data directory " + path + ": " + std::strerror(err),
                             "Run as the user that owns it (course-kiosk), or fix its owner.");
    }
    if (!S_ISDIR(st.st_mode)) {
        return Status::error(err::invalid_config, path + " is not a directory", "Check --data.");
    }
    if (::access(path.c_str(), R_OK | X_OK) != 0) {
        return Status::error(err::storage_unavailable,
                             "cannot open the data directory " + path + ": " + std::strerror(errno),
                             "Run as the user that owns it (course-kiosk), or fix its owner.");
    }
    return Status::ok();
}

Status make_directories(const std::string& path, unsigned mode)
{
    std::error_code ec;
    std::filesystem::path p(path);
    std::filesystem::path partial;
    for (const auto& part : p) {
        partial /= part;
        if (std::filesystem::exists(partial, ec)) continue;
        if (::mkdir(partial.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
            return Status::error(
                err::storage_unavailable,
                "cannot create directory " + partial.string() + ": " + std::strerror(errno),
                "Check the permissions of its parent directory.");
        }
    }
    return Status::ok();
}

Status write_file_atomic(const std::string& path, const std::string& content, unsigned mode)
{
    auto fail = [&](const std::string& what) {
        return Status::error(err::storage_unavailable,
                             "cannot " + what + " " + path + ": " + std::strerror(errno),
                             "Check free space and permissions of the data directory.");
    };
    std::string tmp = path + ".tmp";
    int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return fail("create");
    ::fchmod(fd, static_cast<mode_t>(mode));
    std::size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return fail("write");
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        return fail("sync");
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
    std::string dir = std::filesystem::path(path).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return Status::ok();
}

}  // namespace ck
