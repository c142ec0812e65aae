// `serve --demo`: a module whose first day is today, with sessions covering the whole day
// (00:00-12:00 and 12:00-24:00 local time), about 40 fictitious attendees and a key.
#pragma once

#include <string>

#include "core/status.hpp"

namespace ck {

class Device;

// Creates the demo data directory, or reuses it while today is one of its days; an older
// demo directory is moved aside to DIR.<first-day> rather than deleted. With
// `config_path` (`serve --demo --config FILE`, e.g. the device config `course-registry
// serve --demo` writes) the demo serves that config's module and registry instead of a
// module starting today; the attendees, staff account and signing key are the demo's.
Status prepare_demo(const std::string& data_dir, const std::string& config_path);
// Prints the URLs and two sample credentials.
void print_demo_banner(Device& device, const std::string& base_url);

}  // namespace ck
