#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "bench_tensor.hpp"
#include "median.hpp"
#include "normcheck/bench/bench.hpp"

namespace normcheck::bench {

CopyBandwidth measure_copy_bandwidth(int threads, int reps, std::int64_t bytes) {
  const std::int64_t floats = bytes / 4;
  BenchTensor src(numeric::DType::f32, {floats}), dst(numeric::DType::f32, {floats});
  auto* from = static_cast<const unsigned char*>(src.get()->data);
  auto* to = static_cast<unsigned char*>(dst.get()->data);
  const int t = std::max(1, threads);
  // Threads are started per repetition, as the cpu backend does per call.
  const auto copy_once = [&] {
    std::vector<std::jthread> workers;
    for (int i = 0; i < t; ++i) {
      const std::int64_t begin = bytes * i / t / 64 * 64,
                         end = i + 1 == t ? bytes : bytes * (i + 1) / t / 64 * 64;
      workers.emplace_back(
          [=] { std::memcpy(to + begin, from + begin, std::size_t(end - begin)); });
    }
  };
  copy_once();  // warm-up
  std::vector<double> seconds;
  for (int r = 0; r < std::max(1, reps); ++r) {
    const auto start = std::chrono::steady_clock::now();
    copy_once();
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  CopyBandwidth c;
  c.bytes = bytes;
  c.median_seconds = median(seconds);
  c.gbps = 2.0 * double(bytes) / c.median_seconds / 1e9;
  return c;
}

}  // namespace normcheck::bench
