// Untrusted text echoed back in a message is cut to a readable length and
// made printable: a 10 MB suite line or a binary blob costs one line of
// output, not the whole input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace normcheck::model {

inline constexpr std::size_t kExcerptChars = 120;

// `text` itself when it is short and printable; otherwise its first
// `max_chars` characters, control bytes shown as '?', followed by
// "... (N bytes)".
std::string excerpt(std::string_view text, std::size_t max_chars = kExcerptChars);

// `text` with control bytes (C0 and DEL) shown as '?', not cut: a message
// that quotes bytes of a damaged file never sends escape sequences to a
// terminal or breaks a log line.
std::string printable(std::string_view text);

}  // namespace normcheck::model
