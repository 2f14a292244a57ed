#include "normcheck/model/input_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "normcheck/model/problem.hpp"

namespace normcheck::model {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

std::string format_bytes(std::uintmax_t bytes) {
  constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  double v = double(bytes);
  int unit = -1;
  while (v >= 1024.0 && unit < 5) {
    v /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.3g} {}", v, units[unit]);
}

std::string read_text_file(const std::filesystem::path& path, std::string_view what,
                           std::uintmax_t max_bytes) {
  const auto fail = [&](const std::string& why) -> std::string {
    throw InputError(fmt::format("{} '{}': {}", what, path.string(), why));
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then rejects it.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return fail(fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return fail(fmt::format("cannot stat: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return fail(fmt::format("is {}, not a regular file", kind_of(st.st_mode)));
  const auto too_large = [&] {
    return fail(fmt::format("larger than {}, the most this normcheck reads as {}",
                            format_bytes(max_bytes), what));
  };
  if (std::uintmax_t(st.st_size) > max_bytes) return too_large();
  std::string text;
  text.reserve(std::size_t(st.st_size));
  char chunk[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(fmt::format("read failed: {}", std::strerror(errno)));
    }
    // The file may grow while it is read (a log still being written).
    if (text.size() + std::size_t(n) > max_bytes) return too_large();
    text.append(chunk, std::size_t(n));
  }
  return text;
}

}  // namespace normcheck::model
