// `course-registry serve --demo` (SPEC section 9): needs nothing else. It makes (or reuses)
// a private PostgreSQL cluster in DIR (default ./registry-data, cli/demo_cluster.hpp), the
// four module editions of one cycle with the forty demo attendees of core/demo_course.hpp
// across them, months of their check-ins sent by demo devices through the very batch path
// real devices use, a staff account and a device token; then it serves, prints the office
// URL, the login and a device config with which `course-kiosk serve --demo --config`
// syncs to it, and stops its PostgreSQL when it stops.
//
// The story the data tells (docs/registry.md, "The demo"): module 3 is on now, on its last
// day, and fourteen attendees lack only today's session to complete it and, with it,
// their ECNR cycle. Module 4 had two kiosks that add up, one void that makes a kiosk's
// completion record disagree, and one check-in taken with an untrusted clock.
//
// The data stays while today is one of module 3's days; an older demo directory is moved
// aside to DIR.<first-day>, never deleted.
#pragma once

#include <string>

namespace ck::registry {

int cmd_serve_demo(const std::string& data_dir, const std::string& listen);

}  // namespace ck::registry
