// Framed messages between a rank process and its worker over a stream
// socket: a tag byte, a u64 payload length, the payload. Either side may
// die at any moment; a send or receive on a dead peer reports it instead of
// raising SIGPIPE or blocking forever.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace normcheck::mpi {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  void reset();

 private:
  int fd_ = -1;
};

struct Frame {
  char tag = 0;
  std::string payload;
};

class Channel {
 public:
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}

  // False when the peer is gone.
  bool send(char tag, std::string_view payload = {});

  // Blocks for the next frame; nullopt when the peer closed or died.
  std::optional<Frame> receive();

  enum class Wait { frame, closed, timed_out };
  // As receive(), giving up at `deadline` if no frame has begun by then.
  Wait receive_until(std::chrono::steady_clock::time_point deadline, Frame& frame);

  void close() { fd_.reset(); }

 private:
  UniqueFd fd_;
};

// Two connected ends (socketpair, close-on-exec). std::runtime_error on failure.
std::pair<Channel, Channel> channel_pair();

// Everything in the file `fd` from its first byte (pread: the file offset,
// which a forked writer shares, stays where it is).
std::string read_from_start(int fd);

}  // namespace normcheck::mpi
