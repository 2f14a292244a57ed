// SyncBatchNorm through nc_collectives: ranks holding shards of a batch,
// run concurrently with an in-process allreduce, reproduce batch norm of the
// whole batch. Tolerance 1e-12 relative to max(1, |value|) (f64; the sums
// are only grouped differently).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "normcheck/cpu/backend.hpp"
#include "normcheck/naive/backend.hpp"
#include "normcheck/testing/backend_call.hpp"

using namespace normcheck;
using namespace normcheck::testing;

namespace {

// Every rank blocks in allreduce until all have contributed. With two ranks
// the sum a + b is exact-order independent, so the result is deterministic.
class InProcessWorld {
 public:
  explicit InProcessWorld(int size) : size_(size) {}

  static int allreduce(void* context, double* data, std::int64_t count) {
    auto& w = *static_cast<InProcessWorld*>(context);
    std::unique_lock lock(w.mutex_);
    const int generation = w.generation_;
    if (w.arrived_ == 0)
      w.sum_.assign(data, data + count);
    else
      for (std::int64_t i = 0; i < count; ++i) w.sum_[std::size_t(i)] += data[i];
    if (++w.arrived_ == w.size_) {
      w.result_ = w.sum_;
      w.arrived_ = 0;
      ++w.generation_;
      w.done_.notify_all();
    } else {
      w.done_.wait(lock, [&] { return w.generation_ != generation; });
    }
    std::copy(w.result_.begin(), w.result_.end(), data);
    return 0;
  }

  nc_collectives for_rank(int rank) { return {this, rank, size_, &InProcessWorld::allreduce}; }

 private:
  int size_;
  std::mutex mutex_;
  std::condition_variable done_;
  int arrived_ = 0, generation_ = 0;
  std::vector<double> sum_, result_;
};

HostTensor samples(const HostTensor& t, std::int64_t first, std::int64_t count) {
  HostTensor out = t;
  const auto per_sample = std::int64_t(t.bytes.size()) / t.shape[0];
  out.shape[0] = count;
  out.bytes.assign(t.bytes.begin() + first * per_sample,
                   t.bytes.begin() + (first + count) * per_sample);
  return out;
}

}  // namespace

TEST_CASE("SyncBN over two ranks equals batch norm of the whole batch", "[sync]") {
  const auto& backend = *GENERATE(&naive::backend_table(), &cpu::backend_table());
  const auto layout = GENERATE(NC_LAYOUT_NCHW, NC_LAYOUT_NHWC);
  INFO(backend.name << (layout == NC_LAYOUT_NCHW ? " nchw" : " nhwc"));
  auto whole = make_problem(NC_OP_BATCH_NORM, {5, 3, 7});
  whole.layout = layout;
  const auto in = random_inputs(whole, 31);
  auto full_f = run_forward(backend, whole, in);
  REQUIRE(full_f.status == NC_OK);
  const auto full_b = run_backward(backend, whole, in, full_f);
  REQUIRE(full_b.status == NC_OK);

  const std::int64_t shard[2] = {2, 3}, first[2] = {0, 2};
  InProcessWorld world(2);
  ForwardResult f[2];
  BackwardResult b[2];
  {
    std::vector<std::jthread> ranks;
    for (int r = 0; r < 2; ++r)
      ranks.emplace_back([&, r] {
        auto p = whole;
        p.shape[0] = shard[r];
        Inputs part = in;
        part.x = samples(in.x, first[r], shard[r]);
        part.dy = samples(in.dy, first[r], shard[r]);
        const auto coll = world.for_rank(r);
        f[r] = run_forward(backend, p, part, &coll);
        b[r] = run_backward(backend, p, part, f[r], &coll);
      });
  }
  constexpr double tolerance = 1e-12;
  std::vector<double> dgamma(std::size_t(full_b.dgamma.count()), 0.0);
  for (int r = 0; r < 2; ++r) {
    REQUIRE(f[r].status == NC_OK);
    REQUIRE(b[r].status == NC_OK);
    CHECK(max_relative_error(f[r].y.values(), samples(full_f.y, first[r], shard[r]).values()) <
          tolerance);
    CHECK(max_relative_error(f[r].saved_rstd.values(), full_f.saved_rstd.values()) < tolerance);
    CHECK(max_relative_error(f[r].running_var.values(), full_f.running_var.values()) < tolerance);
    CHECK(max_relative_error(b[r].dx.values(), samples(full_b.dx, first[r], shard[r]).values()) <
          tolerance);
    for (std::size_t c = 0; c < dgamma.size(); ++c) dgamma[c] += b[r].dgamma.at(std::int64_t(c));
  }
  // dgamma/dbeta are each rank's contribution; their sum is the full one.
  CHECK(max_relative_error(dgamma, full_b.dgamma.values()) < tolerance);
}
