#include "normcheck/support/status.hpp"

#include <algorithm>
#include <cstring>

namespace normcheck::support {

void write_message(char* buffer, std::size_t size, std::string_view text,
                   std::string_view more) noexcept {
  if (buffer == nullptr || size == 0) return;
  std::size_t used = 0;
  for (const auto part : {text, more}) {
    const std::size_t n = std::min(part.size(), size - 1 - used);
    if (n > 0) std::memcpy(buffer + used, part.data(), n);  // data() may be NULL when empty
    used += n;
  }
  buffer[used] = '\0';
}

}  // namespace normcheck::support
