// `serve --demo`: a module whose first day is today, with sessions covering the whole day
// (00:00-12:00 and 12:00-24:00 local time), about 40 fictitious attendees and a key.
#pragma once

#include <string>

#include "core/status.hpp"

namespace ck {

class Device;

// Creates the demo data directory, or reuses it while today is one of its days; an older
// demo directory is moved aside to DIR.<first-day> rather than deleted.
Status prepare_demo(const std::string& data_dir);
// Prints the URLs and two sample credentials.
void print_demo_banner(Device& device, const std::string& base_url);

}  // namespace ck
