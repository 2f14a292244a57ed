// The worker's calls on one rank's shard, with ranks as threads joined by
// runner::InProcessGroup (no MPI needed): each rank gets its rows of x and
// dy, the collectives it was given, and its outputs come back under the
// names the judge expects; inputs written into and guard zones damaged are
// reported.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

#include "normcheck/fixture/schema.hpp"
#include "normcheck/mpi/channel.hpp"
#include "normcheck/runner/executor.hpp"
#include "normcheck/numeric/dtype.hpp"
#include "normcheck/runner/in_process_group.hpp"

using namespace normcheck;
using fixture::Tensor;
using numeric::DType;

namespace {

std::int64_t count(const DLTensor* t) {
  std::int64_t n = 1;
  for (int i = 0; i < t->ndim; ++i) n *= t->shape[i];
  return n;
}
double get(const DLTensor* t, std::int64_t i) {
  return numeric::load(DType::f32, t->data, std::size_t(i));
}
void set(DLTensor* t, std::int64_t i, double v) {
  numeric::store(DType::f32, t->data, std::size_t(i), v);
}
void fill(DLTensor* t, double v) {
  for (std::int64_t i = 0; i < count(t); ++i) set(t, i, v);
}

nc_status supports(const nc_problem*, char*, size_t) {
  return NC_OK;
}

// y = x * (global batch size, all-reduced), saved_mean = rank,
// saved_rstd = global batch, running_mean += 1, running_var unchanged.
nc_status forward(const nc_problem* p, const nc_forward_args* a, char* message, size_t size) {
  double batch = double(p->shape[0]);
  if (a->collectives->allreduce_sum_f64(a->collectives->context, &batch, 1) != 0) {
    std::snprintf(message, size, "all-reduce failed");
    return NC_INTERNAL_ERROR;
  }
  for (std::int64_t i = 0; i < count(a->y); ++i) set(a->y, i, get(a->x, i) * batch);
  fill(a->saved_mean, a->collectives->rank);
  fill(a->saved_rstd, batch);
  for (std::int64_t i = 0; i < count(a->running_mean); ++i)
    set(a->running_mean, i, get(a->running_mean, i) + 1);
  return NC_OK;
}

// dx = dy, dgamma = rank, dbeta = 1.
nc_status backward(const nc_problem*, const nc_backward_args* a, char*, size_t) {
  for (std::int64_t i = 0; i < count(a->dx); ++i) set(a->dx, i, get(a->dy, i));
  fill(a->dgamma, a->collectives->rank);
  fill(a->dbeta, 1.0);
  return NC_OK;
}

// Writes into its input and one element past its output.
nc_status scribble(const nc_problem*, const nc_forward_args* a, char*, size_t) {
  set(const_cast<DLTensor*>(a->x), 0, 42.0);
  for (std::int64_t i = 0; i <= count(a->y); ++i) set(a->y, i, 0.0);
  fill(a->saved_mean, 0.0);
  fill(a->saved_rstd, 1.0);
  return NC_OK;
}

constexpr nc_backend_v1 kFake{
    NORMCHECK_BACKEND_ABI_VERSION, "fake", "test", &supports, &forward, &backward, nullptr};
// A forward-only plugin: its table has no backward().
constexpr nc_backend_v1 kForwardOnly{
    NORMCHECK_BACKEND_ABI_VERSION, "forward_only", "test", &supports, &forward, nullptr, nullptr};
constexpr nc_backend_v1 kScribbler{
    NORMCHECK_BACKEND_ABI_VERSION, "scribbler", "test", &supports, &scribble, &backward, nullptr};

fixture::Case make_case(const std::string& descriptor) {
  fixture::Case c;
  c.problem = model::parse_descriptor(descriptor);
  for (const auto& spec : fixture::dataset_specs(c.problem)) {
    if (spec.section != fixture::Section::inputs) continue;
    Tensor t = Tensor::zeros(spec.dtype, spec.shape);
    for (std::int64_t i = 0; i < t.count(); ++i)
      t.set(i, double(i) + (spec.name == "dy" ? 0.5 : 0.0));
    c.inputs[spec.name] = t;
  }
  return c;
}

// One rank's end of the group of the current call: a fresh InProcessGroup
// per call, as the rank processes' MpiCollectives::leave() ends each call.
struct RankLink {
  std::shared_ptr<runner::InProcessGroup>* group;
  int rank;
  static int entry(void* self, double* data, std::int64_t n) {
    auto* link = static_cast<RankLink*>(self);
    return (*link->group)->allreduce(link->rank, data, n);
  }
};

class Ranks {
 public:
  Ranks(const nc_backend_v1& backend, const fixture::Case& c, int ranks) : ranks_(ranks) {
    for (int r = 0; r < ranks; ++r) {
      fds_.push_back(memfd_create("shard_executor_test", MFD_CLOEXEC));
      writers_.push_back(std::make_unique<runner::ReportWriter>(fds_.back()));
      links_.push_back(std::make_unique<RankLink>(RankLink{&group_, r}));
      tables_.push_back(std::make_unique<nc_collectives>(
          nc_collectives{links_.back().get(), r, ranks, &RankLink::entry}));
    }
    for (int r = 0; r < ranks; ++r)
      executors_.push_back(std::make_unique<runner::ShardExecutor>(
          backend, c, r, ranks, tables_[std::size_t(r)].get(), *writers_[std::size_t(r)]));
  }
  ~Ranks() {
    for (int fd : fds_) close(fd);
  }

  // Every rank makes the call at once, on its own thread.
  std::vector<nc_status> all(const std::function<nc_status(runner::ShardExecutor&, int)>& call) {
    group_ = std::make_shared<runner::InProcessGroup>(ranks_);
    std::vector<nc_status> status(std::size_t(ranks_), NC_OK);
    std::vector<std::thread> threads;
    for (int r = 0; r < ranks_; ++r)
      threads.emplace_back([&, r] {
        status[std::size_t(r)] = call(*executors_[std::size_t(r)], r);
        group_->leave(r);
      });
    for (auto& t : threads) t.join();
    return status;
  }

  runner::ChildReport report(int r) {
    writers_[std::size_t(r)]->finish();
    const std::string bytes = mpi::read_from_start(fds_[std::size_t(r)]);
    return runner::parse_child_report(bytes);
  }

 private:
  int ranks_;
  std::shared_ptr<runner::InProcessGroup> group_;
  std::vector<int> fds_;
  std::vector<std::unique_ptr<runner::ReportWriter>> writers_;
  std::vector<std::unique_ptr<RankLink>> links_;
  std::vector<std::unique_ptr<nc_collectives>> tables_;
  std::vector<std::unique_ptr<runner::ShardExecutor>> executors_;
};

}  // namespace

TEST_CASE("shard executor: each rank runs its rows with the collectives and names its outputs",
          "[mpi][executor]") {
  const fixture::Case c = make_case("bn:f32:6x2:shards=1+2+3");
  Ranks ranks(kFake, c, 3);
  CHECK(ranks.all([](auto& e, int) { return e.supports(); }) == std::vector<nc_status>(3, NC_OK));
  CHECK(ranks.all([](auto& e, int) { return e.forward(""); }) == std::vector<nc_status>(3, NC_OK));
  CHECK(ranks.all([](auto& e, int) { return e.backward(""); }) == std::vector<nc_status>(3, NC_OK));
  CHECK(ranks.all([](auto& e, int) { return e.forward("rerun/"); }) ==
        std::vector<nc_status>(3, NC_OK));

  const std::int64_t first[] = {0, 1, 3}, rows[] = {1, 2, 3};
  for (int r = 0; r < 3; ++r) {
    const auto report = ranks.report(r);
    const std::string rank = "rank" + std::to_string(r) + "/";
    REQUIRE(report.calls.size() == 3);
    CHECK(report.calls[0].name == "forward (SyncBN over MPI, 3 ranks)");
    CHECK(report.calls[1].name == "backward (SyncBN over MPI, 3 ranks)");
    CHECK(report.calls[2].name == "forward (SyncBN over MPI, 3 ranks, rerun)");
    CHECK(report.calls[0].expected ==
          std::vector<std::string>{rank + "running_mean_step1", rank + "running_var_step1",
                                   rank + "y", rank + "saved_mean", rank + "saved_rstd"});
    for (const auto& call : report.calls) {
      CHECK(call.finished);
      CHECK(call.overruns.empty());
      CHECK(call.modified_inputs.empty());
    }
    // y = x * 6: this rank's rows of x, times the batch summed over the ranks.
    const auto y = report.outputs.at(rank + "y").to_doubles();
    REQUIRE(y.size() == std::size_t(rows[r] * 2));
    for (std::size_t i = 0; i < y.size(); ++i)
      CHECK(y[i] == 6.0 * double(first[r] * 2 + std::int64_t(i)));
    CHECK(report.outputs.at(rank + "saved_mean").to_doubles() ==
          std::vector<double>{double(r), double(r)});
    CHECK(report.outputs.at(rank + "running_mean_step1").to_doubles() ==
          std::vector<double>{1.0, 2.0});
    CHECK(report.outputs.at(rank + "running_var_step1").to_doubles() ==
          std::vector<double>{0.0, 1.0});
    // dx = dy: this rank's rows of dy.
    const auto dx = report.outputs.at(rank + "dx").to_doubles();
    REQUIRE(dx.size() == std::size_t(rows[r] * 2));
    CHECK(dx.front() == double(first[r] * 2) + 0.5);
    CHECK(report.outputs.at(rank + "dgamma").to_doubles() ==
          std::vector<double>{double(r), double(r)});
    CHECK(report.outputs.contains("rerun/" + rank + "y"));
  }
}

TEST_CASE("shard executor: a rank whose peer is gone gets a failed all-reduce and emits nothing",
          "[mpi][executor]") {
  const fixture::Case c = make_case("bn:f32:4x2:shards=1+3");
  Ranks ranks(kFake, c, 2);
  // Rank 1 makes another call (no all-reduce) and leaves: rank 0's
  // forward cannot complete its all-reduce.
  const auto status =
      ranks.all([](runner::ShardExecutor& e, int r) { return r == 0 ? e.forward("") : e.supports(); });
  CHECK(status == std::vector<nc_status>{NC_INTERNAL_ERROR, NC_OK});
  const auto report = ranks.report(0);
  REQUIRE(report.calls.size() == 1);
  CHECK(report.calls[0].finished);
  CHECK(report.calls[0].message == "all-reduce failed");
  CHECK(report.outputs.empty());
}

TEST_CASE("shard executor: inputs written into and guard zones damaged are reported",
          "[mpi][executor]") {
  const fixture::Case c = make_case("bn:f32:4x2:shards=4");
  Ranks ranks(kScribbler, c, 1);
  CHECK(ranks.all([](auto& e, int) { return e.forward(""); }) == std::vector<nc_status>{NC_OK});
  const auto report = ranks.report(0);
  REQUIRE(report.calls.size() == 1);
  CHECK(report.calls[0].modified_inputs == std::vector<std::string>{"x"});
  CHECK(report.calls[0].overruns ==
        std::vector<std::string>{"y: 0 guard bytes changed before the tensor, 4 after"});
}

TEST_CASE("shard executor: a forward-only plugin's backward is declined, as under run",
          "[mpi][executor]") {
  // One executor for run and run-mpi: the null check of the in-process path
  // applies here too (it once did not, and the call crashed the worker).
  const fixture::Case c = make_case("bn:f32:4x2:shards=1+3");
  Ranks ranks(kForwardOnly, c, 2);
  CHECK(ranks.all([](auto& e, int) { return e.forward(""); }) == std::vector<nc_status>(2, NC_OK));
  CHECK(ranks.all([](auto& e, int) { return e.backward(""); }) ==
        std::vector<nc_status>(2, NC_UNSUPPORTED));
  const auto report = ranks.report(1);
  REQUIRE(report.calls.size() == 2);
  CHECK(report.calls[1].name == "backward (SyncBN over MPI, 2 ranks)");
  CHECK(report.calls[1].status == NC_UNSUPPORTED);
  CHECK(report.calls[1].message == "the backend's table has no backward()");
}
