#include "normcheck/model/excerpt.hpp"

#include <fmt/format.h>

namespace normcheck::model {

std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string excerpt(std::string_view text, std::size_t max_chars) {
  const bool cut = text.size() > max_chars;
  std::string out = printable(text.substr(0, max_chars));
  if (cut) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

}  // namespace normcheck::model
