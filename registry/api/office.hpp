// The education office's API (SPEC section 9): staff login with a cookie and CSRF as on
// the device, attendees (accent-blind search), an attendee's progress and the progress of
// many, exports, the editions with their devices' sync health, and /metrics.
#pragma once

#include <vector>

#include "api/server.hpp"

namespace ck::registry {

// The office's routes, for make_registry_server.
std::vector<GuardedRoute> office_routes(RegistryContext& context);

}  // namespace ck::registry
