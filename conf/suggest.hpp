#pragma once
// "did you mean ...?" for a misspelt setting name.

#include <optional>
#include <span>
#include <string_view>

namespace tern::conf {

// The candidate closest to `name` by edit distance (insertions, deletions, substitutions,
// transpositions of neighbours), if one is close enough to be a typo: at most 2 edits, and at
// most half of the name's length. Ties go to the first candidate.
std::optional<std::string_view> closest_name(std::string_view name,
                                             std::span<const std::string_view> candidates);

}  // namespace tern::conf
