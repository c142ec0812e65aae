// The printable badge sheet: A4 HTML, 8 badges per page (name, country, module, the QR code
// as inline SVG, cut marks), made by the device and by the registry alike. Pure: the caller
// signs each credential and writes the pieces where it wants, in order: the head, one
// badge_html per attendee (index 0, 1, 2, ...), the tail.
#pragma once

#include <cstddef>
#include <string>

#include "core/module.hpp"
#include "core/roster.hpp"

namespace ck {

inline constexpr std::size_t kBadgesPerPage = 8;

std::string badge_sheet_head(const ModuleEdition& module);
// The `index`-th badge (opening and closing its page): `qr_text` is the signed credential.
std::string badge_html(const ModuleEdition& module, const Attendee& attendee,
                       const std::string& qr_text, std::size_t index);
// After `count` badges.
std::string badge_sheet_tail(std::size_t count);

}  // namespace ck
