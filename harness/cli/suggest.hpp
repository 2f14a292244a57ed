// "Did you mean": the closest of a set of names to what was typed, by edit
// distance, for messages about unknown options and filters matching nothing.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace normcheck::cli {

// Levenshtein distance (insertions, deletions, substitutions).
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The `count` names closest to `typed`, nearest first (ties in input order).
inline std::vector<std::string> closest(std::string_view typed,
                                        const std::vector<std::string>& names, std::size_t count) {
  std::vector<std::pair<std::size_t, std::size_t>> scored;  // distance, position
  for (std::size_t i = 0; i < names.size(); ++i)
    scored.emplace_back(edit_distance(typed, names[i]), i);
  std::stable_sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (std::size_t k = 0; k < scored.size() && k < count; ++k)
    out.push_back(names[scored[k].second]);
  return out;
}

}  // namespace normcheck::cli
