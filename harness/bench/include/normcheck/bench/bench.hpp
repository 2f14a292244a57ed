// `normcheck bench`: achieved memory bandwidth of backends against the
// machine's streaming copy bandwidth, on model-sized shapes.
//
// A backend's bandwidth is the bytes its operation must move (the traffic
// model of workload.hpp) divided by the median time of a call through the
// ABI. The copy bandwidth, measured in the same run with the same threads,
// is the physical limit those numbers are compared with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "normcheck/bench/workload.hpp"

namespace normcheck::bench {

struct Options {
  std::vector<std::string> backends{"naive", "cpu"};  // built-in names or .so paths
  std::vector<model::Op> ops{model::Op::layer_norm, model::Op::rms_norm, model::Op::batch_norm,
                             model::Op::group_norm};
  std::vector<numeric::DType> dtypes{numeric::DType::f32, numeric::DType::bf16};
  int reps = 5;
  int threads = 0;  // 0: every core
  int scale = 1;    // divides the batch of every shape (quick runs)
};

struct CopyBandwidth {
  double gbps = 0.0;  // (read + write bytes) / median time
  double median_seconds = 0.0;
  std::int64_t bytes = 0;  // copied per repetition (moved: twice that)
};

struct Result {
  std::string backend;
  Workload workload;
  double median_seconds = 0.0;
  // The fastest of the reps: what the code can do when nothing else on the
  // machine slows it, steadier than the median on a shared host
  // (scripts/bench-ab --fastest).
  double min_seconds = 0.0;
  double gbps = 0.0;  // from the median
  double percent_of_copy = 0.0;
  std::string skipped;  // non-empty: why there is no number
};

struct Report {
  std::string machine;  // CPU model name
  int cores = 0;
  int threads = 0;
  int reps = 0;
  CopyBandwidth copy;
  std::vector<Result> results;
};

// Streaming copy of two buffers of `bytes` each, split over `threads`.
CopyBandwidth measure_copy_bandwidth(int threads, int reps, std::int64_t bytes = 512ll << 20);

// Runs everything the options ask for. Sets NORMCHECK_CPU_THREADS and
// OMP_NUM_THREADS to the thread count first, so that backends that read
// them use the same cores as the copy. Throws model::InputError for an
// unknown backend or bad options; `progress` receives one line per result.
Report run(const Options& options, void (*progress)(const Result&) = nullptr);

std::string format_table(const Report& report);
std::string to_json(const Report& report);

// "AMD EPYC ..." from /proc/cpuinfo, or "unknown".
std::string cpu_model_name();

}  // namespace normcheck::bench
