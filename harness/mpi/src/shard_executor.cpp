#include "normcheck/mpi/shard_executor.hpp"

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

#include "normcheck/fixture/schema.hpp"
#include "normcheck/mpi/shards.hpp"
#include "normcheck/runner/guarded_buffer.hpp"
#include "normcheck/runner/scenarios.hpp"

namespace normcheck::mpi {

namespace {

namespace names = fixture::names;
using runner::GuardedBuffer;

constexpr std::size_t kMessageSize = 1024;

DLTensor* dl(std::optional<GuardedBuffer>& b) {
  return b ? b->tensor() : nullptr;
}

std::optional<GuardedBuffer> maybe_input(const fixture::Case& c, const char* name) {
  const auto it = c.inputs.find(name);
  if (it == c.inputs.end()) return std::nullopt;
  return GuardedBuffer::input(it->second);
}

// A buffer a call touches: an input must come back unchanged; an output
// with a report name is emitted when the call succeeds.
struct Slot {
  std::string name;
  GuardedBuffer* buffer = nullptr;
  bool output = false;
  std::string emit_as;
};

}  // namespace

// The buffers of one forward and its backward on this rank's shard.
struct ShardExecutor::Run {
  std::string prefix;  // of the report names: "" or "rerun/", then "rank<r>/"
  model::Problem problem;
  nc_problem abi{};
  std::optional<GuardedBuffer> x, gamma, beta, running_mean, running_var, y, saved_mean, saved_rstd;
  std::optional<GuardedBuffer> dy, dx, dgamma, dbeta;

  std::vector<Slot> forward_slots() {
    std::vector<Slot> s;
    const auto add = [&](const std::string& name, std::optional<GuardedBuffer>& b, bool output,
                         std::string emit) {
      if (b) s.push_back({name, &*b, output, std::move(emit)});
    };
    add(names::x, x, false, "");
    add(names::gamma, gamma, false, "");
    add(names::beta, beta, false, "");
    // Training with tracked statistics updates them in place: they are the
    // statistics after step 1 of the golden trajectory.
    const bool updated = fixture::updates_running_stats(problem);
    add(names::running_mean, running_mean, updated,
        updated ? prefix + names::running_mean_step(1) : "");
    add(names::running_var, running_var, updated,
        updated ? prefix + names::running_var_step(1) : "");
    add(names::y, y, true, prefix + names::y);
    add(names::saved_mean, saved_mean, true, prefix + names::saved_mean);
    add(names::saved_rstd, saved_rstd, true, prefix + names::saved_rstd);
    return s;
  }

  std::vector<Slot> backward_slots() {
    std::vector<Slot> s;
    const auto add = [&](const char* name, std::optional<GuardedBuffer>& b, bool output) {
      if (b) s.push_back({name, &*b, output, output ? prefix + name : ""});
    };
    add(names::dy, dy, false);
    add(names::x, x, false);
    add(names::gamma, gamma, false);
    add(names::saved_mean, saved_mean, false);
    add(names::saved_rstd, saved_rstd, false);
    add(names::dx, dx, true);
    add(names::dgamma, dgamma, true);
    add(names::dbeta, dbeta, true);
    return s;
  }
};

ShardExecutor::ShardExecutor(const nc_backend_v1& backend, const fixture::Case& c, int rank,
                             int ranks, const nc_collectives* collectives,
                             runner::ReportWriter& out)
    : backend_(backend),
      case_(c),
      rank_(rank),
      ranks_(ranks),
      collectives_(collectives),
      out_(out) {
  if (c.problem.shards.size() != std::size_t(ranks))
    throw std::invalid_argument(fmt::format("ShardExecutor: case {} has {} shards, not {}",
                                            c.descriptor(), c.problem.shards.size(), ranks));
}

ShardExecutor::~ShardExecutor() = default;

std::string ShardExecutor::call_name(const char* what, int ranks, const std::string& prefix) {
  const std::string run = prefix.empty() ? "" : ", " + prefix.substr(0, prefix.size() - 1);
  return fmt::format("{} (SyncBN over MPI, {} ranks{})", what, ranks, run);
}

nc_status ShardExecutor::supports() {
  char reason[kMessageSize] = {};
  const nc_problem abi = model::to_abi(case_.problem);
  const nc_status status = backend_.supports(&abi, reason, sizeof reason);
  reason[kMessageSize - 1] = '\0';
  out_.supports(status, reason);
  return status;
}

nc_status ShardExecutor::invoke(const std::string& name, Run& run, bool backward) {
  const std::vector<Slot> slots = backward ? run.backward_slots() : run.forward_slots();
  std::vector<fixture::Tensor> before;
  std::vector<std::string> expected;
  for (const auto& s : slots) {
    before.push_back(s.output ? fixture::Tensor{} : s.buffer->contents());
    if (!s.emit_as.empty()) expected.push_back(s.emit_as);
  }
  out_.begin_call(name, expected);
  char message[kMessageSize] = {};
  const auto start = std::chrono::steady_clock::now();
  nc_status status = NC_INTERNAL_ERROR;
  if (backward) {
    const nc_backward_args args{dl(run.dy),
                                dl(run.x),
                                dl(run.gamma),
                                dl(run.saved_mean),
                                dl(run.saved_rstd),
                                nullptr,
                                nullptr,
                                dl(run.dx),
                                nullptr,
                                dl(run.dgamma),
                                dl(run.dbeta),
                                collectives_};
    status = backend_.backward(&run.abi, &args, message, sizeof message);
  } else {
    const nc_forward_args args{
        dl(run.x),           nullptr,   dl(run.gamma), dl(run.beta),       dl(run.running_mean),
        dl(run.running_var), dl(run.y), nullptr,       dl(run.saved_mean), dl(run.saved_rstd),
        collectives_};
    status = backend_.forward(&run.abi, &args, message, sizeof message);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  message[kMessageSize - 1] = '\0';
  out_.end_call(status, message, seconds);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    if (const auto damage = s.buffer->guard_damage(); damage.any())
      out_.overrun(fmt::format("{}: {} guard bytes changed before the tensor, {} after", s.name,
                               damage.before, damage.after));
    if (!s.output && !s.buffer->equals(before[i])) out_.modified_input(s.name);
  }
  if (status == NC_OK)
    for (const auto& s : slots)
      if (!s.emit_as.empty()) out_.output(s.emit_as, s.buffer->contents());
  return status;
}

nc_status ShardExecutor::forward(const std::string& prefix) {
  const model::Problem& p = case_.problem;
  auto run = std::make_unique<Run>();
  run->prefix = prefix + runner::prefix::rank(rank_);
  run->problem = shard_problem(p, rank_);
  run->abi = model::to_abi(run->problem);
  const std::int64_t first = shard_first_sample(p, rank_), samples = run->problem.shape[0];
  run->x = GuardedBuffer::input_rows(case_.inputs.at(names::x), first, samples);
  run->gamma = maybe_input(case_, names::gamma);
  run->beta = maybe_input(case_, names::beta);
  if (fixture::has_running_stat_inputs(run->problem)) {
    run->running_mean = maybe_input(case_, names::running_mean);
    run->running_var = maybe_input(case_, names::running_var);
  }
  run->y = GuardedBuffer::output(run->problem.data, run->problem.shape);
  run->saved_mean = GuardedBuffer::output(run->problem.stats, fixture::stat_shape(run->problem));
  run->saved_rstd = GuardedBuffer::output(run->problem.stats, fixture::stat_shape(run->problem));
  run_ = std::move(run);
  return invoke(call_name("forward", ranks_, prefix), *run_, false);
}

nc_status ShardExecutor::backward(const std::string& prefix) {
  if (!run_ || run_->prefix != prefix + runner::prefix::rank(rank_))
    throw std::logic_error("ShardExecutor: backward without its forward");
  Run& run = *run_;
  const model::Problem& shard = run.problem;
  run.dy = GuardedBuffer::input_rows(case_.inputs.at(names::dy),
                                     shard_first_sample(case_.problem, rank_), shard.shape[0]);
  run.dx = GuardedBuffer::output(shard.data, shard.shape);
  if (shard.scale) run.dgamma = GuardedBuffer::output(shard.param, fixture::param_shape(shard));
  if (shard.shift) run.dbeta = GuardedBuffer::output(shard.param, fixture::param_shape(shard));
  return invoke(call_name("backward", ranks_, prefix), run, true);
}

}  // namespace normcheck::mpi
