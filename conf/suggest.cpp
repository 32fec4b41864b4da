#include "conf/suggest.hpp"

#include <algorithm>
#include <vector>

namespace tern::conf {
namespace {

// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring).
size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t columns = b.size() + 1;
  std::vector<size_t> d((a.size() + 1) * columns);
  auto at = [&](size_t i, size_t j) -> size_t& { return d[i * columns + j]; };
  for (size_t i = 0; i <= a.size(); ++i) at(i, 0) = i;
  for (size_t j = 0; j <= b.size(); ++j) at(0, j) = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.size(), b.size());
}

}  // namespace

std::optional<std::string_view> closest_name(std::string_view name,
                                             std::span<const std::string_view> candidates) {
  constexpr size_t kMaxEdits = 2;
  // Setting names are short; a long unknown name is no typo of one of them.
  if (name.empty() || name.size() > 64) return std::nullopt;
  std::optional<std::string_view> best;
  size_t best_distance = kMaxEdits + 1;
  for (const auto candidate : candidates) {
    const size_t distance = edit_distance(name, candidate);
    if (distance < best_distance && 2 * distance <= name.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace tern::conf
