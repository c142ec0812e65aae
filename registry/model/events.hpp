// The devices' event batches (docs/sync.md section 3): checked against
// schemas/sync-events-request.schema.json and the rules a schema cannot say, then applied
// in one PostgreSQL transaction with the dedup rules, all or nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.hpp"
#include "db/pg.hpp"

namespace ck::registry {

struct EventBatch {
    std::string device_id;
    std::int64_t first_seq = 0;
    nlohmann::json events;  // an array, each event as sent (unknown members kept)
};

// Checks a batch's body: JSON, the schema, device_id equal to `path_device`, events
// contiguous from first_seq, no event id twice. Any failure is malformed_request (400) with
// the reason; nothing else of the batch is looked at.
class BatchParser {
public:
    // `schema`: the request schema (schemas/sync-events-request.schema.json).
    explicit BatchParser(const nlohmann::json& schema);
    ~BatchParser();
    BatchParser(const BatchParser&) = delete;
    BatchParser& operator=(const BatchParser&) = delete;

    Result<EventBatch> parse(const std::string& body, const std::string& path_device) const;

private:
    struct Compiled;
    std::unique_ptr<Compiled> compiled_;
};

// How far the registry holds the device's events: every seq 1..acked_through.
Result<std::int64_t> acked_through(Database& db, const std::string& device_id);

// The outcome of a batch: committed (`status` ok) with the new acked_through, or refused
// (gap, seq_conflict, event_id_conflict, module_not_allowed...) with what was held before
// and the error's details.
struct BatchOutcome {
    Status status;
    std::int64_t acked_before = 0;  // what the registry held when the batch came
    std::int64_t acked_through = 0;
    nlohmann::json details;
};

// Applies `batch` for the device `token` belongs to, in one transaction: the token is
// checked again and the device's row locked (two registry processes serialise one device's
// batches; different devices run in parallel), held events are compared, new ones stored,
// the device's last contact noted. Only a committed batch answers ok. Errors of PostgreSQL
// are the result's status (storage_unavailable while it is down).
Result<BatchOutcome> apply_batch(Database& db, const std::string& token, const EventBatch& batch);

}  // namespace ck::registry
