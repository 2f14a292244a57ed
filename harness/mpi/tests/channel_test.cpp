// The rank process <-> worker framing: whole frames of any size arrive
// intact, a deadline is kept, and a dead peer reads as closed (and a send to
// it fails) rather than blocking or raising SIGPIPE.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "normcheck/mpi/channel.hpp"
#include "normcheck/mpi/worker_protocol.hpp"

using namespace normcheck::mpi;
using namespace std::chrono_literals;

TEST_CASE("channel: frames of any size arrive whole and in order", "[mpi][channel]") {
  auto [a, b] = channel_pair();
  const std::size_t size =
      GENERATE(std::size_t(0), std::size_t(1), std::size_t(3) << 20);  // 3 MiB > socket buffer
  std::string payload(size, '\0');
  for (std::size_t i = 0; i < size; ++i) payload[i] = char(i * 7 + 3);
  std::thread writer([&] {
    CHECK(a.send('A', payload));
    CHECK(a.send('D', "end"));
  });
  const auto first = b.receive();
  const auto second = b.receive();
  writer.join();
  REQUIRE(first);
  CHECK(first->tag == 'A');
  CHECK(first->payload == payload);
  REQUIRE(second);
  CHECK(second->tag == 'D');
  CHECK(second->payload == "end");
}

TEST_CASE("channel: receive_until gives up at the deadline", "[mpi][channel]") {
  auto [a, b] = channel_pair();
  Frame f;
  const auto start = std::chrono::steady_clock::now();
  CHECK(b.receive_until(start + 50ms, f) == Channel::Wait::timed_out);
  CHECK(std::chrono::steady_clock::now() - start >= 50ms);
  REQUIRE(a.send('x', "y"));
  CHECK(b.receive_until(std::chrono::steady_clock::now() + 1s, f) == Channel::Wait::frame);
  CHECK(f.payload == "y");
}

TEST_CASE("channel: a closed peer reads as closed and refuses sends", "[mpi][channel]") {
  auto [a, b] = channel_pair();
  a.close();
  Frame f;
  CHECK(b.receive_until(std::chrono::steady_clock::now() + 1s, f) == Channel::Wait::closed);
  CHECK_FALSE(b.receive());
  CHECK_FALSE(b.send('x', std::string(1 << 20, 'z')));  // EPIPE, not SIGPIPE: the test lives on
}

TEST_CASE("wire: doubles and i32 round trip, malformed payloads are refused", "[mpi][channel]") {
  const std::vector<double> values{1.5, -0.0, 1e300, -3.25};
  std::vector<double> back;
  REQUIRE(wire::decode_doubles(wire::encode_doubles(values), back));
  CHECK(back == values);
  CHECK_FALSE(wire::decode_doubles("abc", back));
  CHECK(wire::decode_i32(wire::encode_i32(-7) + "tail", 0) == -7);
  CHECK(wire::decode_i32("ab", 42) == 42);
}
