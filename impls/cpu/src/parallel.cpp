#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <emmintrin.h>  // _mm_pause
#include <unistd.h>

#include "normcheck/support/status.hpp"
#include "task_shares.hpp"

namespace normcheck::cpu {

namespace {

// Worker threads kept between calls. Starting and joining a thread per
// call cost about 0.15 ms of wall time on the 2-core VM (a 256x768
// rms_norm took 0.21 ms on two threads, 0.04 ms on one), a tenth of a
// whole 8192x768 row norm. Waking a worker that sleeps on a condition
// variable, and waking the caller when the workers finish, still cost
// tens of microseconds each on this VM (a 1024x768 layer_norm: 0.169 ms
// on two threads, 0.226 on one, where oneDNN's spinning OpenMP threads
// took 0.132): so both first poll for a short while (kSpin) before they
// sleep. Back-to-back calls (a benchmark, a training step's forward then
// backward) find the workers awake; an idle process spins at most kSpin
// after each call and then takes nothing from other processes.
// One parallel_for at a time uses the pool; a concurrent caller, or a
// forked child (which has none of the parent's threads), starts its own
// threads as before.
class Pool {
 public:
  Pool() : owner_(getpid()) {}
  ~Pool() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  // range(t) for t in [1, threads) on pool workers, range(0) here; false
  // (nothing run) when the pool is in use or belongs to another process.
  pid_t owner() const { return owner_; }
  bool run(std::int64_t threads, const std::function<void(std::int64_t)>& range) {
    if (getpid() != owner_) return false;
    const std::unique_lock busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      const std::lock_guard lock(mutex_);
      while (std::int64_t(workers_.size()) < threads - 1) {
        const auto id = std::int64_t(workers_.size()) + 1;
        workers_.emplace_back([this, id] { work(id); });
      }
      job_ = &range;
      active_ = threads - 1;
      pending_.store(threads - 1, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    range(0);
    if (!poll([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock lock(mutex_);
      done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    job_ = nullptr;
    return true;
  }

 private:
  static constexpr auto kSpin = std::chrono::microseconds(200);

  // Polls `ready` for up to kSpin; true as soon as it holds.
  template <class Ready>
  static bool poll(Ready&& ready) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0;; ++i) {
      if (ready()) return true;
      _mm_pause();
      if (i % 64 == 63 && std::chrono::steady_clock::now() >= until) return ready();
    }
  }

  void work(std::int64_t id) {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_, std::defer_lock);
    for (;;) {
      const auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      const bool awake = poll(fresh);
      lock.lock();
      if (!awake) wake_.wait(lock, fresh);
      // run() publishes the job under mutex_ before the generation moves on.
      seen = generation_.load(std::memory_order_acquire);
      if (stop_) return;
      const auto* job = id <= active_ ? job_ : nullptr;
      lock.unlock();
      if (job == nullptr) continue;
      (*job)(id);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // Through mutex_, so a caller between its check and its wait
        // cannot miss the notification.
        lock.lock();
        lock.unlock();
        done_.notify_one();
      }
    }
  }

  const pid_t owner_;
  std::mutex busy_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(std::int64_t)>* job_ = nullptr;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::int64_t> pending_{0};
  std::int64_t active_ = 0;
  bool stop_ = false;
};

// Destroyed at exit or dlclose in the process that made it. A forked
// child leaves it alone (releases it unfreed): it has none of the workers
// to join, and the condition variable still counts the parent's sleeping
// workers, so destroying it would wait forever.
Pool& pool() {
  static struct Holder {
    std::unique_ptr<Pool> pool = std::make_unique<Pool>();
    ~Holder() {
      if (getpid() != pool->owner()) static_cast<void>(pool.release());
    }
  } holder;
  return *holder.pool;
}

}  // namespace

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
  // Chunks of an eighth of a share: what a thread that finishes early can
  // take from another. (With chunks claimed in turn, session 14 measured
  // a 128th to a half of a share and kept an eighth; reports/perf.md.)
  TaskShares shares(tasks, threads, std::max<std::int64_t>(1, tasks / (8 * threads)));
  const std::function<void(std::int64_t)> range = [&](std::int64_t t) {
    try {
      for (;;) {
        const auto claim = shares.claim(t);
        if (claim.empty()) break;
        body(claim.begin, claim.end);
      }
    } catch (...) {
      errors[std::size_t(t)] = std::current_exception();
    }
  };
  if (!pool().run(threads, range)) {
    std::vector<std::jthread> workers;
    workers.reserve(std::size_t(threads - 1));
    for (std::int64_t t = 1; t < threads; ++t) workers.emplace_back(range, t);
    range(0);
  }  // joined here
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace normcheck::cpu
