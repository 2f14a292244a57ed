#include "normcheck/model/excerpt.hpp"

#include <fmt/format.h>

namespace normcheck::model {

std::string excerpt(std::string_view text, std::size_t max_chars) {
  const bool cut = text.size() > max_chars;
  std::string out(text.substr(0, max_chars));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (cut) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

}  // namespace normcheck::model
