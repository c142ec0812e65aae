#include "app/walk_in.hpp"

#include "app/device.hpp"

namespace ck {

WalkInResult add_walk_in(Device& device, const nlohmann::json& entry, const std::string& staff)
{
    WalkInResult result;
    RosterImport read = parse_roster_entry(entry);
    if (!read.file_error.empty() || read.accepted.size() != 1) {
        if (!read.rejected.empty()) result.problem = read.rejected.front();
        const std::string message = !read.file_error.empty() ? read.file_error
                                    : !read.rejected.empty() ? read.rejected.front().message
                                                             : "The attendee could not be read.";
        result.status = Status::error(err::invalid_attendee, message,
                                      "Correct the field and add the attendee again.");
        return result;
    }
    result.attendee = std::move(read.accepted.front());
    result.status =
        device.store->add_attendee(result.attendee, device.actor(staff), &result.existing);
    return result;
}

}  // namespace ck
