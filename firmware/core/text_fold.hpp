// Case folding for matching names typed by people: "MÜLLER", "müller" and " Müller "
// match. Folds ASCII, Latin-1 Supplement and Latin Extended-A (the letters of European
// names), collapses runs of spaces and trims; other characters are kept as they are.
#pragma once

#include <string>
#include <string_view>

namespace ck {

std::string fold_for_match(std::string_view utf8);

}  // namespace ck
