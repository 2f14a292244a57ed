#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "bench_buffers.hpp"
#include "median.hpp"
#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/backend/problem_abi.hpp"
#include "normcheck/bench/bench.hpp"
#include "normcheck/model/op_traits.hpp"

namespace normcheck::bench {

namespace {


struct CallTimes {
  double median = 0.0, min = 0.0;  // seconds
};

// Median and fastest seconds of `reps` calls after one warm-up call, or
// the first failure's message.
template <class Call>
CallTimes time_calls(int reps, std::string& failure, Call&& call) {
  std::vector<double> seconds;
  for (int r = -1; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const std::string error = call();
    const auto stop = std::chrono::steady_clock::now();
    if (!error.empty()) {
      failure = error;
      return {};
    }
    if (r >= 0) seconds.push_back(std::chrono::duration<double>(stop - start).count());
  }
  return {median(seconds), *std::min_element(seconds.begin(), seconds.end())};
}

std::string status_text(nc_status status, const char* message) {
  if (status == NC_OK) return "";
  const char* kind = status == NC_UNSUPPORTED        ? "unsupported"
                     : status == NC_INVALID_ARGUMENT ? "invalid argument"
                                                     : "error";
  return std::string(kind) + ": " + message;
}

}  // namespace

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

Report run(const Options& options, void (*progress)(const Result&)) {
  if (options.reps < 1) throw model::InputError("--reps must be at least 1");
  if (options.threads < 0) throw model::InputError("--threads must be at least 1");
  if (options.scale < 1) throw model::InputError("--scale must be at least 1");
  Report report;
  report.machine = cpu_model_name();
  report.cores = int(std::max(1u, std::thread::hardware_concurrency()));
  report.threads = options.threads > 0 ? options.threads : report.cores;
  report.reps = options.reps;
  const std::string threads = std::to_string(report.threads);
  setenv("NORMCHECK_CPU_THREADS", threads.c_str(), 1);
  setenv("OMP_NUM_THREADS", threads.c_str(), 1);

  std::vector<backend::LoadedBackend> backends;
  for (const auto& name : options.backends) backends.push_back(backend::LoadedBackend::load(name));
  // 3 to 11 copies: a median of 512 MiB copies settles by then, and more
  // reps of the kernels (for a profiler) should not mean minutes of memcpy.
  report.copy = measure_copy_bandwidth(report.threads, std::clamp(options.reps, 3, 11));

  for (const auto dtype : options.dtypes)
    for (const auto op : options.ops) {
      const auto workloads = workloads_for(op, dtype, options.scale);
      for (std::size_t w = 0; w < workloads.size(); w += 2) {  // (forward, backward) pairs
        Buffers buffers(workloads[w].problem);
        const nc_problem abi = backend::to_abi(workloads[w].problem);
        for (const auto& b : backends) {
          const auto& table = b.table();
          char message[512] = "";
          const std::string declined =
              status_text(table.supports(&abi, message, sizeof message), message);
          for (std::size_t k = w; k < w + 2; ++k) {
            Result r{b.name(), workloads[k], 0.0, 0.0, 0.0, 0.0, declined};
            const bool forward = workloads[k].direction == Direction::forward;
            if (r.skipped.empty() && !forward && table.backward == nullptr)
              r.skipped = "no backward()";
            CallTimes times;
            if (r.skipped.empty())
              times = time_calls(options.reps, r.skipped, [&] {
                const nc_status s =
                    forward ? table.forward(&abi, &buffers.forward, message, sizeof message)
                            : table.backward(&abi, &buffers.backward, message, sizeof message);
                return status_text(s, message);
              });
            if (r.skipped.empty()) {
              r.median_seconds = times.median;
              r.min_seconds = times.min;
              r.gbps = r.workload.bytes / r.median_seconds / 1e9;
              r.percent_of_copy = 100.0 * r.gbps / report.copy.gbps;
            }
            if (progress != nullptr) progress(r);
            report.results.push_back(r);
          }
        }
      }
    }
  return report;
}

}  // namespace normcheck::bench
