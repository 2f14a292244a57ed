// nc_cache_affinity: does a core re-read data faster when it read the data
// last itself than when the other core did? On a machine whose cores share
// one last-level cache the two times agree; where each core has its own
// (AMD's CCXs, or vCPUs the hypervisor placed on different ones), data
// another core read last comes from that core's cache or from memory.
//
// Each repetition reads a --mb megabyte buffer on core A, then times a
// second read on A ("same core"); reads it on A again and times a read on
// core B ("other core"); then reads 8x the buffer elsewhere and times a
// read on A ("evicted": memory). A and B swap every repetition. The cpu
// backend's parallel_for gives each thread a contiguous share of the tasks
// because of what this shows on the 2-vCPU Zen 5 VM (reports/perf.md,
// issue 17, session 15): a thread's passes over its share, and the next
// call's, then read what its own cache holds.
//
// Usage: nc_cache_affinity [--mb M] [--reps K]. Exit 77 where threads
// cannot be pinned to two CPUs (one CPU, or affinity refused), 2 on a bad
// option.
#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#include "median.hpp"

namespace {

using normcheck::bench::median;

// Sum of the floats, eight independent chains, so that the loop is limited
// by the loads and not by the adds' latency.
float sum_of(const std::vector<float>& v) {
  float s[8] = {};
  const std::size_t n = v.size() / 8 * 8;
  for (std::size_t i = 0; i < n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += v[i + std::size_t(k)];
  float total = 0.0f;
  for (const float x : s) total += x;
  return total;
}

// Microseconds of sum_of(v) on a thread pinned to `cpu`; negative where the
// pinning failed.
double timed_read_on(int cpu, const std::vector<float>& v, float& sink) {
  double us = -1.0;
  std::thread t([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) return;
    const auto start = std::chrono::steady_clock::now();
    sink += sum_of(v);
    us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  });
  t.join();
  return us;
}

long option(int argc, char** argv, std::string_view name, long fallback) {
  for (int i = 1; i < argc; ++i) {
    if (name != argv[i]) continue;
    char* end = nullptr;
    const long v = i + 1 < argc ? std::strtol(argv[i + 1], &end, 10) : 0;
    if (i + 1 >= argc || end == argv[i + 1] || *end != '\0' || v <= 0 || v > 4096) {
      std::fprintf(stderr, "nc_cache_affinity: %s needs an integer in [1, 4096]\n", argv[i]);
      std::exit(2);
    }
    return v;
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view a = argv[i];
    if (a != "--mb" && a != "--reps") {
      std::fprintf(stderr, "nc_cache_affinity: unknown option '%s' (--mb, --reps)\n", argv[i]);
      return 2;
    }
  }
  const long mb = option(argc, argv, "--mb", 12), reps = option(argc, argv, "--reps", 21);
  const std::vector<float> data(std::size_t(mb) << 18, 1.0f), elsewhere(std::size_t(8 * mb) << 18, 1.0f);
  float sink = 0.0f;
  if (timed_read_on(0, data, sink) < 0 || timed_read_on(1, data, sink) < 0) {
    std::puts("nc_cache_affinity: skipped, threads cannot be pinned to CPUs 0 and 1");
    return 77;
  }
  std::vector<double> same, other, evicted;
  for (long r = 0; r < reps; ++r) {
    const int a = int(r % 2), b = 1 - a;
    timed_read_on(a, data, sink);
    same.push_back(timed_read_on(a, data, sink));
    timed_read_on(a, data, sink);
    other.push_back(timed_read_on(b, data, sink));
    timed_read_on(a, elsewhere, sink);
    evicted.push_back(timed_read_on(a, data, sink));
  }
  const double bytes = double(data.size() * sizeof(float));
  std::printf("%ld MB re-read, median of %ld\n", mb, reps);
  for (const auto& [name, v] : {std::pair{"same core", &same}, std::pair{"other core", &other},
                                std::pair{"evicted", &evicted}}) {
    const double us = median(*v);
    std::printf("%-11s %9.0f us %7.1f GB/s\n", name, us, bytes / us / 1e3);
  }
  return sink == 0.0f ? 1 : 0;  // the sums are used
}
