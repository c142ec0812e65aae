#include <iostream>

#include "app/device.hpp"
#include "app/files.hpp"
#include "cli/commands.hpp"

namespace ck {

int cmd_roster_import(const std::string& data_dir, const std::string& file)
{
    auto device = open_device(data_dir);
    if (!device) return report_failure(device.status());
    auto text = read_file(file);
    if (!text) {
        return report_failure(Status::error(err::not_found, "cannot read " + file,
                                            "Check the path and that the file is readable."));
    }
    bool json = file.size() >= 5 && file.substr(file.size() - 5) == ".json";
    RosterImport import = json ? parse_roster_json(*text) : parse_roster_csv(*text);
    if (!import.file_error.empty()) {
        return report_failure(Status::error(err::malformed_request, file + ": " + import.file_error,
                                            "Fix the file and import it again."));
    }
    auto stats = (*device)->store->import_roster(import.accepted);
    if (!stats) return report_failure(stats.status());
    for (const auto& problem : import.rejected) {
        std::cerr << file << ":" << problem.line << ": rejected"
                  << (problem.id.empty() ? "" : " " + problem.id) << ": " << problem.message << " ["
                  << problem.code << "]\n";
    }
    std::cout << "Imported " << import.accepted.size() << " of " << import.rows_total << " rows ("
              << stats->created << " new, " << stats->updated << " updated, " << stats->unchanged
              << " unchanged, " << import.rejected.size() << " rejected)\n";
    return import.rejected.empty() ? kExitOk : kExitFailure;
}

}  // namespace ck
