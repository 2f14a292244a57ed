// Input files are untrusted. Where a file is meant, only a regular file is
// read (a FIFO would block forever, /dev/zero never ends, a folder is a
// mistake), and no more than a cap, so a runaway input costs one clear
// message (InputError, exit 2) instead of all memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace normcheck::model {

// Suites, manifests, tolerance files, index.tsv: the largest committed one
// (the nightly manifest) is about 1 MB.
inline constexpr std::uintmax_t kMaxTextFileBytes = std::uintmax_t(64) << 20;

// The whole content of `path`. InputError naming `what` and the path when it
// cannot be opened, is not a regular file, or holds more than `max_bytes`.
std::string read_text_file(const std::filesystem::path& path, std::string_view what,
                           std::uintmax_t max_bytes = kMaxTextFileBytes);

// "4 GiB", "1.5 MiB", "512 bytes": byte counts in messages.
std::string format_bytes(std::uintmax_t bytes);

}  // namespace normcheck::model
