#include "parallel.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normcheck/support/status.hpp"

namespace normcheck::cpu {

int thread_count() {
  if (const char* env = std::getenv("NORMCHECK_CPU_THREADS"); env != nullptr && *env != '\0') {
    const std::string_view text(env);
    int n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 1024)
      throw support::ArgumentError("NORMCHECK_CPU_THREADS='" + std::string(text) +
                                   "' is not an integer in [1, 1024]");
    return n;
  }
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

void parallel_for(std::int64_t tasks, std::int64_t elements_per_task,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (tasks <= 0) return;
  // Below ~64K elements a thread's start-up costs more than its share.
  constexpr std::int64_t min_elements_per_thread = 1 << 16;
  const std::int64_t by_work = std::max<std::int64_t>(
      1, tasks * std::max<std::int64_t>(1, elements_per_task) / min_elements_per_thread);
  const auto threads = std::int64_t(std::min<std::int64_t>({thread_count(), tasks, by_work}));
  if (threads <= 1) {
    body(0, tasks);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads));
  const auto range = [&](std::int64_t t) {
    const std::int64_t begin = tasks * t / threads, end = tasks * (t + 1) / threads;
    try {
      body(begin, end);
    } catch (...) {
      errors[std::size_t(t)] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> workers;
    workers.reserve(std::size_t(threads - 1));
    for (std::int64_t t = 1; t < threads; ++t) workers.emplace_back(range, t);
    range(0);
  }  // joined here
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace normcheck::cpu
