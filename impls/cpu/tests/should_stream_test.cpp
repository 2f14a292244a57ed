// Which outputs the kernels stream (src/simd.hpp, should_stream): the
// call's working set against 32 MiB, and 16-byte alignment of the base and
// of every run. The bench shapes on each side of the line are the ones the
// rule was measured on (reports/perf.md). Exact: a yes/no decision.
#include <catch2/catch.hpp>

#include <cstdint>

#include "../src/simd.hpp"

using normcheck::cpu::should_stream;

namespace {

// A 64-byte aligned address, and one 8 bytes past it.
alignas(64) const char kBase[128] = {};
const void* const aligned = kBase;
const void* const misaligned = kBase + 8;

}  // namespace

TEST_CASE("outputs stream when the call's working set exceeds 32 MiB") {
  constexpr std::int64_t MiB = 1 << 20;
  // ln bf16 8192x768: 12.6 MB of y; the forward (x, y) stays in cache, the
  // backward (x, dy, dx) does not.
  const std::int64_t bf16_768 = 8192 * 768 * 2, row = 768 * 2;
  CHECK_FALSE(should_stream(aligned, bf16_768, 2, row));
  CHECK(should_stream(aligned, bf16_768, 3, row));
  // ... unless its residual doubles the forward's arrays.
  CHECK(should_stream(aligned, bf16_768, 4, row));
  // ln f32 8192x768: 25 MB of y, streamed in both directions.
  CHECK(should_stream(aligned, 2 * bf16_768, 2, 2 * row));
  // The line itself.
  CHECK(should_stream(aligned, 16 * MiB, 2, 64));
  CHECK_FALSE(should_stream(aligned, 16 * MiB - 16, 2, 64));
}

TEST_CASE("only 16-byte aligned bases and runs stream") {
  constexpr std::int64_t big = std::int64_t(1) << 30;
  CHECK_FALSE(should_stream(misaligned, big, 2, 64));
  CHECK_FALSE(should_stream(aligned, big, 2, 72));  // a run of 72 bytes: the next starts at 8
  CHECK(should_stream(static_cast<const char*>(aligned) + 16, big, 2, 80));
}
