// What the rest of the device may ask of the sync (the HTTP layer: the dashboard's sync
// panel, "sync now", /metrics). The relay in sync/ implements it; the serve command hands
// it to the HTTP layer, which so never depends on sync/.
#pragma once

#include <nlohmann/json.hpp>

namespace ck {

class SyncControl {
public:
    virtual ~SyncControl() = default;
    // True when a registry is configured.
    virtual bool configured() const = 0;
    // Send now, whatever the back-off (staff pressed "sync now").
    virtual void wake() = 0;
    // schemas/sync-status.schema.json: pending events, acked_through, last success and
    // error, next attempt, the registry clock offset, the roster pull.
    virtual nlohmann::json status() const = 0;
};

}  // namespace ck
