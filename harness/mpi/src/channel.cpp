#include "normcheck/mpi/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace normcheck::mpi {

namespace {

// Every byte of `data`; false when the peer is gone. MSG_NOSIGNAL: a dead
// peer must not kill the rank process with SIGPIPE.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= std::size_t(n);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= std::size_t(n);
  }
  return true;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  reset();
}

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool Channel::send(char tag, std::string_view payload) {
  if (fd_.get() < 0) return false;
  std::string frame(1, tag);
  const std::uint64_t length = payload.size();
  frame.append(reinterpret_cast<const char*>(&length), sizeof length);
  frame.append(payload);
  return write_all(fd_.get(), frame.data(), frame.size());
}

std::optional<Frame> Channel::receive() {
  Frame f;
  if (receive_until(std::chrono::steady_clock::time_point::max(), f) != Wait::frame)
    return std::nullopt;
  return f;
}

Channel::Wait Channel::receive_until(std::chrono::steady_clock::time_point deadline, Frame& frame) {
  if (fd_.get() < 0) return Wait::closed;
  while (true) {
    int timeout_ms = -1;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return Wait::timed_out;
      // Round up: truncating 0.9 ms to 0 would give up before the deadline.
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      timeout_ms = int(std::min<std::int64_t>(left.count(), 60'000));
    }
    pollfd p{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Wait::closed;
    if (ready > 0) break;
  }
  // A frame has begun: its writer sends it whole, so read it to the end.
  std::uint64_t length = 0;
  if (!read_all(fd_.get(), &frame.tag, 1) ||
      !read_all(fd_.get(), reinterpret_cast<char*>(&length), sizeof length))
    return Wait::closed;
  frame.payload.assign(std::size_t(length), '\0');
  return read_all(fd_.get(), frame.payload.data(), frame.payload.size()) ? Wait::frame
                                                                         : Wait::closed;
}

std::pair<Channel, Channel> channel_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error(std::string("socketpair failed: ") + std::strerror(errno));
  return {Channel(UniqueFd(fds[0])), Channel(UniqueFd(fds[1]))};
}

std::string read_from_start(int fd) {
  std::string s;
  char buffer[65536];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return s;
    s.append(buffer, std::size_t(n));
    at += n;
  }
}

}  // namespace normcheck::mpi
