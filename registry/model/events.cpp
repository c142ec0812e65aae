#include "model/events.hpp"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "core/password.hpp"
#include "core/time.hpp"
#include "model/progress_summaries.hpp"

namespace ck::registry {

namespace {

Status malformed(const std::string& why)
{
    return Status::error(
        err::malformed_request, why,
        "Send the batch docs/sync.md describes (schemas/sync-events-request.schema.json).");
}

// The members the schema matches with a pattern or a date-time format. valijson does that
// with std::regex, which recurses once per character on a 512 KiB worker stack: a long
// string would crash the server. None of them is longer than this when valid.
constexpr std::size_t kMaxPatterned = 80;
constexpr const char* kPatterned[] = {"id",          "at",         "module_id",
                                      "attendee_id", "session_id", "checkin_id"};

bool too_long(const nlohmann::json& value)
{
    return value.is_string() && value.get_ref<const std::string&>().size() > kMaxPatterned;
}

std::string first_too_long(const nlohmann::json& doc)
{
    if (doc.contains("device_id") && too_long(doc["device_id"])) return "device_id";
    const auto events = doc.find("events");
    if (events == doc.end() || !events->is_array()) return {};
    for (const auto& event : *events) {
        if (!event.is_object()) continue;
        for (const char* name : kPatterned) {
            if (auto it = event.find(name); it != event.end() && too_long(*it)) return name;
        }
        if (auto ids = event.find("attended_session_ids"); ids != event.end() && ids->is_array()) {
            for (const auto& id : *ids) {
                if (too_long(id)) return "attended_session_ids";
            }
        }
        if (auto held = event.find("held"); held != event.end() && held->is_object()) {
            if (auto t = held->find("device_time"); t != held->end() && too_long(*t)) {
                return "held.device_time";
            }
        }
    }
    return {};
}

// PostgreSQL's jsonb cannot hold U+0000; such a text is refused here rather than there.
bool has_nul(const nlohmann::json& value)
{
    if (value.is_string()) {
        return value.get_ref<const std::string&>().find('\0') != std::string::npos;
    }
    if (value.is_object()) {
        for (const auto& [key, member] : value.items()) {
            if (key.find('\0') != std::string::npos || has_nul(member)) return true;
        }
    }
    if (value.is_array()) {
        return std::any_of(value.begin(), value.end(), [](const auto& v) { return has_nul(v); });
    }
    return false;
}

// seq and first_seq: integers PostgreSQL's bigint and JSON's doubles agree on.
bool is_seq(const nlohmann::json& value)
{
    constexpr std::int64_t kMax = std::int64_t{1} << 53;
    if (value.is_number_unsigned()) return value.get<std::uint64_t>() <= std::uint64_t{kMax};
    return value.is_number_integer() && value.get<std::int64_t>() >= 1 &&
           value.get<std::int64_t>() <= kMax;
}

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

}  // namespace

struct BatchParser::Compiled {
    valijson::Schema schema;
};

// valijson 1.0 checks "format": "date-time" by compiling a std::regex at every value: a
// batch of 1,000 events took half a second of CPU, all of it there (bench/run registry).
// The schema's own "pattern" already says the same, and parse() checks the date itself
// (core parse_rfc3339), so the formats are left out of what valijson sees.
namespace {

nlohmann::json without_formats(nlohmann::json schema)
{
    if (schema.is_object()) {
        schema.erase("format");
        for (auto& [_, member] : schema.items()) member = without_formats(std::move(member));
    } else if (schema.is_array()) {
        for (auto& item : schema) item = without_formats(std::move(item));
    }
    return schema;
}

}  // namespace

BatchParser::BatchParser(const nlohmann::json& schema) : compiled_(std::make_unique<Compiled>())
{
    const nlohmann::json checked = without_formats(schema);
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(checked);
    parser.populateSchema(adapter, compiled_->schema);
}

BatchParser::~BatchParser() = default;

Result<EventBatch> BatchParser::parse(const std::string& body, const std::string& path_device) const
{
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded()) return malformed("The body is not JSON.");
    if (!doc.is_object()) return malformed("The body is not a JSON object.");
    if (std::string name = first_too_long(doc); !name.empty()) {
        return malformed("The batch's " + name + " is longer than any valid one.");
    }
    if (has_nul(doc)) return malformed("The batch holds a U+0000 character.");
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(doc);
    if (!validator.validate(compiled_->schema, target, &results)) {
        valijson::ValidationResults::Error error;
        std::string where;
        std::string what = "does not match the schema";
        // The deepest error says most: the last one valijson reports for the first path.
        if (results.popError(error)) {
            for (const auto& part : error.context) where += part;
            what = error.description;
        }
        return malformed("The batch does not match the schema at " + where + ": " + what);
    }
    EventBatch batch;
    batch.device_id = doc["device_id"].get<std::string>();
    if (batch.device_id != path_device) {
        return malformed("The batch's device_id \"" + batch.device_id +
                         "\" is not the one in the path (\"" + path_device + "\").");
    }
    if (!is_seq(doc["first_seq"])) return malformed("first_seq is not a whole number.");
    batch.first_seq = doc["first_seq"].get<std::int64_t>();
    batch.events = std::move(doc["events"]);
    std::set<std::string> ids;
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
        const auto& event = batch.events[i];
        if (!is_seq(event["seq"])) return malformed("An event's seq is not a whole number.");
        const auto seq = event["seq"].get<std::int64_t>();
        if (seq != batch.first_seq + static_cast<std::int64_t>(i)) {
            return malformed(
                i == 0 ? "first_seq is not the seq of the first event."
                       : "The events are not contiguous: event " + std::to_string(i) + " has seq " +
                             std::to_string(seq) + ", not " +
                             std::to_string(batch.first_seq + static_cast<std::int64_t>(i)) + ".");
        }
        if (!ids.insert(lower(event["id"].get<std::string>())).second) {
            return malformed("The event id " + event["id"].get<std::string>() +
                             " is in the batch twice.");
        }
        if (!parse_rfc3339(event["at"].get<std::string>())) {
            return malformed("seq " + std::to_string(seq) + ": \"at\" is not a date and time.");
        }
    }
    return batch;
}

Result<std::int64_t> acked_through(Database& db, const std::string& device_id)
{
    auto rows =
        db.exec("SELECT coalesce(max(seq), 0) FROM events WHERE device_id = $1", {device_id});
    if (!rows) return rows.status();
    return std::stoll(rows->text(0, 0));
}

namespace {

constexpr const char* kUniqueViolation = "23505";
constexpr const char* kDeadlock = "40P01";

// One attempt at a batch, inside a transaction (see apply_batch).
Status apply_in_transaction(Database& db, const std::string& token, const EventBatch& batch,
                            BatchOutcome& outcome)
{
    // Authenticates again and locks the device's row until the commit: a second registry
    // process with a batch of this device waits here, then sees what this one stored.
    auto device = db.exec(
        "UPDATE devices SET last_contact = now() "
        "WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL RETURNING id, module_id",
        {sha256_hex(token)});
    if (!device) return device.status();
    if (device->count() == 0) {
        return Status::error(err::unauthenticated, "The registry does not know this token.",
                             "Check registry.token_file on the device.");
    }
    if (device->text(0, 0) != batch.device_id) {
        return Status::error(err::device_not_allowed,
                             "This token does not belong to device " + batch.device_id + ".",
                             "Check registry.token_file and device_id on the device.");
    }
    const std::string module_id = device->text(0, 1);
    auto held = acked_through(db, batch.device_id);
    if (!held) return held.status();
    const std::int64_t acked = *held;
    outcome.acked_before = acked;
    outcome.acked_through = acked;
    const auto count = static_cast<std::int64_t>(batch.events.size());
    if (count == 0) return Status::ok();  // a probe
    for (const auto& event : batch.events) {
        if (event["module_id"] != module_id) {
            return Status::error(
                err::module_not_allowed,
                "Device " + batch.device_id + " belongs to module edition " + module_id + "; seq " +
                    std::to_string(event["seq"].get<std::int64_t>()) + " is of " +
                    event["module_id"].get<std::string>() + ".",
                "Give the device a token for the edition it records (course-registry device add).");
        }
    }
    const std::int64_t first = batch.first_seq;
    const std::int64_t last = first + count - 1;
    if (first > acked + 1) {
        outcome.status = Status::error(err::gap,
                                       "The registry holds this device's events up to seq " +
                                           std::to_string(acked) + "; the batch starts at " +
                                           std::to_string(first) + ".",
                                       "Resend from seq " + std::to_string(acked + 1) + ".");
        outcome.details = {{"expected_seq", acked + 1}, {"first_seq", first}};
        return Status::ok();
    }
    if (first <= acked) {
        auto rows = db.exec(
            "SELECT seq, id::text FROM events WHERE device_id = $1 AND seq BETWEEN $2 AND $3 "
            "ORDER BY seq",
            {batch.device_id, std::to_string(first), std::to_string(std::min(last, acked))});
        if (!rows) return rows.status();
        for (int r = 0; r < rows->count(); ++r) {
            const std::int64_t seq = std::stoll(rows->text(r, 0));
            const auto& sent = batch.events[static_cast<std::size_t>(seq - first)];
            const std::string sent_id = sent["id"].get<std::string>();
            if (lower(sent_id) != rows->text(r, 1)) {
                outcome.status = Status::error(
                    err::seq_conflict,
                    "seq " + std::to_string(seq) +
                        " of this device is already held with event id " + rows->text(r, 1) +
                        ", not " + sent_id + ".",
                    "The device's event log differs from what it sent before (restored or cloned "
                    "data directory?). Do not resend blindly: report it.");
                outcome.details = {
                    {"seq", seq}, {"held_id", rows->text(r, 1)}, {"sent_id", sent_id}};
                return Status::ok();
            }
        }
    }
    if (last <= acked) return Status::ok();  // all duplicates
    nlohmann::json fresh = nlohmann::json::array();
    std::string ids = "{";
    for (std::int64_t seq = std::max(first, acked + 1); seq <= last; ++seq) {
        const auto& event = batch.events[static_cast<std::size_t>(seq - first)];
        if (ids.size() > 1) ids += ',';
        ids += event["id"].get<std::string>();
        fresh.push_back(event);
    }
    ids += '}';
    // OFFSET 0 keeps the lookup by id apart from the ORDER BY ... LIMIT: without it,
    // PostgreSQL expects some of a thousand ids to be held and walks the whole table in
    // (device_id, seq) order for the first, finding none: two seconds a batch at 3 million
    // events, growing with the table (bench/run registry-progress).
    auto taken = db.exec(
        "SELECT id::text, device_id, seq FROM (SELECT id, device_id, seq FROM events "
        "WHERE id = ANY($1::uuid[]) OFFSET 0) AS held ORDER BY device_id, seq LIMIT 1",
        {ids});
    if (!taken) return taken.status();
    if (taken->count() > 0) {
        const std::string id = taken->text(0, 0);
        std::int64_t sent_seq = 0;
        for (const auto& event : fresh) {
            if (lower(event["id"].get<std::string>()) == id)
                sent_seq = event["seq"].get<std::int64_t>();
        }
        outcome.status = Status::error(
            err::event_id_conflict,
            "seq " + std::to_string(sent_seq) + " has event id " + id +
                ", which the registry already holds as seq " + taken->text(0, 2) + " of device " +
                taken->text(0, 1) + ".",
            "Event ids must be unique; the device's event log may have been copied. Report it.");
        outcome.details = {{"seq", sent_seq},
                           {"id", id},
                           {"held_device_id", taken->text(0, 1)},
                           {"held_seq", std::stoll(taken->text(0, 2))}};
        return Status::ok();
    }
    auto inserted = db.exec(
        "INSERT INTO events (device_id, seq, id, type, at, module_id, attendee_id, body) "
        "SELECT $1, (e->>'seq')::bigint, (e->>'id')::uuid, e->>'type', "
        "(e->>'at')::timestamptz, e->>'module_id', e->>'attendee_id', e "
        "FROM jsonb_array_elements($2::jsonb) AS e",
        {batch.device_id, fresh.dump()});
    if (!inserted) return inserted.status();
    // Their progress summaries are behind now (model/progress_summaries.hpp).
    std::set<std::string> attendees;
    for (const auto& event : fresh) attendees.insert(event["attendee_id"].get<std::string>());
    if (Status s = mark_stale(db, {attendees.begin(), attendees.end()}); !s) return s;
    outcome.acked_through = last;
    return Status::ok();
}

// The device's last refused batch, for the office (best effort: the answer does not
// depend on it).
void note_refusal(Database& db, const EventBatch& batch, const BatchOutcome& outcome)
{
    const nlohmann::json refusal = {{"code", outcome.status.code()},
                                    {"message", outcome.status.message()},
                                    {"first_seq", batch.first_seq},
                                    {"acked_through", outcome.acked_through}};
    (void)db.exec(
        "UPDATE devices SET last_refusal = jsonb_set($2::jsonb, '{at}', to_jsonb(now())) "
        "WHERE id = $1",
        {batch.device_id, refusal.dump()});
}

}  // namespace

Result<BatchOutcome> apply_batch(Database& db, const std::string& token, const EventBatch& batch)
{
    // A unique violation means another registry process stored one of these ids (for
    // another device) between the check and the insert: the next attempt finds it held.
    // A deadlock (PostgreSQL rolled the batch back to break one) is tried again too.
    for (int attempt = 0;; ++attempt) {
        BatchOutcome outcome;
        std::string sqlstate;
        Status s = in_transaction(db, [&] {
            Status applied = apply_in_transaction(db, token, batch, outcome);
            if (!applied) sqlstate = db.last_sqlstate();
            return applied;
        });
        if (s) {
            if (!outcome.status) note_refusal(db, batch, outcome);
            return outcome;
        }
        if ((sqlstate != kUniqueViolation && sqlstate != kDeadlock) || attempt == 2) return s;
    }
}

}  // namespace ck::registry
