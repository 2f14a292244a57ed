// The arrays the kernels walk with 64-byte vectors start on a cache line
// (src/line_aligned.hpp): with malloc's 16-byte alignment every such access
// straddled two lines (measured: row backwards 0.84-0.93 of the time once
// aligned). Sizes below and above glibc's mmap threshold (128 KiB), whose
// blocks malloc returns 16 bytes into a page. Exact: address mod 64.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "../src/kernels.hpp"
#include "../src/line_aligned.hpp"

using namespace normcheck;

namespace {

bool on_line(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 64 == 0;
}

}  // namespace

TEST_CASE("line-aligned vectors and buffers start on a cache line") {
  for (std::size_t n : {std::size_t(1), std::size_t(3), std::size_t(1000), std::size_t(1) << 20}) {
    CAPTURE(n);
    const cpu::LineVector<float> f(n);
    const cpu::LineVector<double> d(n);
    const cpu::LineVector<cpu::bf16_t> h(n);
    CHECK(on_line(f.data()));
    CHECK(on_line(d.data()));
    CHECK(on_line(h.data()));
    auto buffer = cpu::line_buffer<double>(n);
    CHECK(on_line(buffer.get()));
    std::memset(buffer.get(), 0, n * sizeof(double));  // the whole extent is ours (ASan checks)
  }
}

TEST_CASE("compute arrays start on a cache line in both compute types") {
  for (auto dtype : {numeric::DType::f32, numeric::DType::f64, numeric::DType::bf16}) {
    CAPTURE(numeric::dtype_name(dtype));
    cpu::ComputeArray a(dtype, 4097);
    CHECK(on_line(a.data()));
  }
}

TEST_CASE("kept arrays are kept per use, on a cache line") {
  using cpu::KeptUse;
  double* const mean = cpu::kept_doubles(KeptUse::row_mean, 8192);
  double* const rstd = cpu::kept_doubles(KeptUse::row_rstd, 8192);
  CHECK(on_line(mean));
  CHECK(on_line(rstd));
  CHECK(mean != rstd);                          // two uses live in one call
  std::memset(mean, 0, 8192 * sizeof(double));  // the whole extent is ours (ASan checks)
  // The next call of the same or a smaller size gets the same pages back.
  CHECK(cpu::kept_doubles(KeptUse::row_mean, 8192) == mean);
  CHECK(cpu::kept_doubles(KeptUse::row_mean, 100) == mean);
  const std::size_t big = std::size_t(3) << 20;  // 24 MiB: past what is kept
  double* const grown = cpu::kept_doubles(KeptUse::row_mean, big);
  CHECK(on_line(grown));
  std::memset(grown, 0, big * sizeof(double));
  CHECK(cpu::kept_doubles(KeptUse::row_rstd, 8192) == rstd);  // untouched by the other use
}
