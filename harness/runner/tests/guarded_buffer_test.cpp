#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include "normcheck/runner/guarded_buffer.hpp"

using normcheck::fixture::Tensor;
using normcheck::numeric::DType;
using namespace normcheck::runner;

TEST_CASE("an output buffer is poisoned, aligned and described by its DLTensor") {
  const DType t = GENERATE(DType::f64, DType::f32, DType::f16, DType::bf16);
  GuardedBuffer b = GuardedBuffer::output(t, {3, 5});
  const DLTensor* dl = b.tensor();
  CHECK(reinterpret_cast<std::uintptr_t>(dl->data) % 64 == 0);
  CHECK(dl->ndim == 2);
  CHECK(dl->shape[1] == 5);
  CHECK(dl->strides == nullptr);
  CHECK(normcheck::numeric::from_dlpack(dl->dtype) == t);
  const Tensor c = b.contents();
  const auto mask = unwritten_mask(c);
  CHECK(std::count(mask.begin(), mask.end(), 1) == 15);
  // The poison reads as a NaN: a harness that forgot the mask would not pass it.
  CHECK(std::isnan(c.at(0)));
  CHECK_FALSE(b.guard_damage().any());
}

TEST_CASE("writing an element clears its poison, whatever the value, NaN included") {
  GuardedBuffer b = GuardedBuffer::output(DType::f32, {4});
  auto* data = static_cast<float*>(b.tensor()->data);
  data[1] = 0.0f;
  data[2] = std::nanf("");
  const auto mask = unwritten_mask(b.contents());
  CHECK(mask == std::vector<std::uint8_t>{1, 0, 0, 1});
}

TEST_CASE("writes outside the payload damage the guards, counted per side") {
  GuardedBuffer b = GuardedBuffer::output(DType::f16, {8});
  auto* bytes = static_cast<unsigned char*>(b.tensor()->data);
  bytes[16] = 0;  // one byte past the end
  bytes[17] = 0;
  bytes[-1] = 0;  // one byte before the start
  const auto d = b.guard_damage();
  CHECK(d.before == 1);
  CHECK(d.after == 2);
}

TEST_CASE("an input holds a copy of its tensor, or of some of its rows") {
  const Tensor t = Tensor::from_doubles(DType::f32, {3, 2}, {1, 2, 3, 4, 5, 6});
  GuardedBuffer whole = GuardedBuffer::input(t);
  CHECK(whole.equals(t));
  GuardedBuffer rows = GuardedBuffer::input_rows(t, 1, 2);
  CHECK(rows.shape() == std::vector<std::int64_t>{2, 2});
  CHECK(rows.contents().to_doubles() == std::vector<double>{3, 4, 5, 6});
  static_cast<float*>(whole.tensor()->data)[0] = 9.0f;
  CHECK_FALSE(whole.equals(t));
  CHECK_THROWS_AS(GuardedBuffer::input_rows(t, 2, 2), std::invalid_argument);
}

TEST_CASE("the guard pattern has no 0x00 or 0xFF byte, so a zero or all-ones fill is always seen") {
  GuardedBuffer b = GuardedBuffer::output(DType::f32, {1000});
  auto* bytes = static_cast<unsigned char*>(b.tensor()->data);
  for (int i = 1; i <= 4096; ++i) {
    const unsigned char v = bytes[4000 + i - 1];
    REQUIRE(v != 0x00);
    REQUIRE(v != 0xFF);
  }
  std::memset(bytes + 4000, 0xFF, 100);
  CHECK(b.guard_damage().after == 100);
}

TEST_CASE("memory beyond the guards is not accessible: a far write faults at once") {
  // In a child: the fault kills it with SIGSEGV (the worker's fate, charged
  // to the call), instead of a silent write into another buffer.
  GuardedBuffer b = GuardedBuffer::output(DType::f32, {16});
  auto* bytes = static_cast<unsigned char*>(b.tensor()->data);
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);
    bytes[64 + 8192] = 1;  // past the page-rounded tail guard of a 64-byte payload
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGSEGV);
}
