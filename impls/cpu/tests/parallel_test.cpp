// parallel_for's pooled workers: every task runs exactly once whatever the
// chunking, errors reach the caller, concurrent callers and forked children
// (which have none of the parent's workers) still get their work done and
// exit; TaskShares hands each thread its own share first and then the
// largest rest. Exact counts and ranges, no tolerance.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../src/parallel.hpp"
#include "../src/task_shares.hpp"
#include "scoped_env.hpp"

using normcheck::cpu::parallel_for;
using normcheck::cpu::TaskShares;
using normcheck::cpu::testing::ThreadCount;

namespace {

// How many times each task ran; the per-task element count is large enough
// that parallel_for does split the work.
std::vector<int> run_counts(std::int64_t tasks) {
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(tasks));
  parallel_for(tasks, 1 << 20, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) seen[std::size_t(t)].fetch_add(1);
  });
  std::vector<int> out;
  for (auto& s : seen) out.push_back(s.load());
  return out;
}

bool each_once(const std::vector<int>& counts) {
  for (const int c : counts)
    if (c != 1) return false;
  return true;
}

}  // namespace

TEST_CASE("parallel_for runs every task exactly once, call after call") {
  const auto threads = GENERATE("1", "2", "3", "7");
  const ThreadCount n(threads);
  for (const std::int64_t tasks : {1, 2, 3, 17, 64, 1000, 4099})
    for (int call = 0; call < 3; ++call) REQUIRE(each_once(run_counts(tasks)));
}

TEST_CASE("an exception in a task reaches the caller and the pool stays usable") {
  const ThreadCount n("3");
  CHECK_THROWS_WITH(parallel_for(64, 1 << 20,
                                 [](std::int64_t begin, std::int64_t end) {
                                   for (std::int64_t t = begin; t < end; ++t)
                                     if (t == 41) throw std::runtime_error("task 41");
                                 }),
                    "task 41");
  CHECK(each_once(run_counts(64)));
}

TEST_CASE("concurrent callers each get all their tasks done") {
  const ThreadCount n("2");
  std::atomic<int> good{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int call = 0; call < 20; ++call)
        if (each_once(run_counts(257))) good.fetch_add(1);
    });
  for (auto& t : callers) t.join();
  CHECK(good.load() == 80);
}

TEST_CASE("a forked child after the parent used the pool runs its tasks and exits") {
  const ThreadCount n("2");
  REQUIRE(each_once(run_counts(100)));  // the parent's pool now has a sleeping worker
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // exit(), not _exit(): static destructors run, the pool's included,
    // which must neither join the parent's workers nor wait for them.
    std::exit(each_once(run_counts(100)) ? 0 : 1);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  pid_t done = 0;
  while ((done = waitpid(child, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (done == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    FAIL("the forked child hung (killed after 20 s)");
  }
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(each_once(run_counts(100)));  // and the parent's pool still works
}

TEST_CASE("each thread claims its own contiguous share from the front, then the largest rest from the back") {
  // 10 tasks, 3 threads, chunks of 2: shares [0, 3), [3, 6), [6, 10).
  TaskShares shares(10, 3, 2);
  using R = TaskShares::Range;
  const auto is = [](R r, std::int64_t b, std::int64_t e) { return r.begin == b && r.end == e; };
  CHECK(is(shares.claim(1), 3, 5));
  CHECK(is(shares.claim(0), 0, 2));
  CHECK(is(shares.claim(0), 2, 3));  // the rest of its share, short of a chunk
  // Thread 0's share is done: it takes from the back of the share with the
  // most left, thread 2's [6, 10).
  CHECK(is(shares.claim(0), 8, 10));
  CHECK(is(shares.claim(2), 6, 8));
  CHECK(is(shares.claim(1), 5, 6));
  CHECK(shares.claim(2).empty());
  CHECK(shares.claim(0).empty());
  CHECK(shares.claim(1).empty());
}

TEST_CASE("claims from every thread in any order cover each task exactly once") {
  for (const std::int64_t tasks : {1, 2, 7, 64, 1001})
    for (const std::int64_t threads : {2, 3, 8})
      for (const std::int64_t chunk : {1, 3, 16}) {
        if (threads > tasks) continue;
        TaskShares shares(tasks, threads, chunk);
        std::vector<int> seen(static_cast<std::size_t>(tasks));
        // Thread 0 claims three times as often as the others, so it steals.
        for (std::int64_t step = 0, idle = 0; idle < threads; ++step) {
          const std::int64_t t = step % (threads + 2) < 3 ? 0 : step % (threads + 2) - 2;
          const auto r = shares.claim(t);
          idle = r.empty() ? idle + 1 : 0;
          for (std::int64_t k = r.begin; k < r.end; ++k) ++seen[std::size_t(k)];
        }
        REQUIRE(each_once(seen));
      }
}
