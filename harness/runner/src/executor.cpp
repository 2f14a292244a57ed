#include "normcheck/runner/executor.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>

#include "normcheck/compare/check_table.hpp"
#include "normcheck/fixture/schema.hpp"
#include "normcheck/backend/problem_abi.hpp"
#include "normcheck/model/op_traits.hpp"
#include "normcheck/runner/guarded_buffer.hpp"
#include "normcheck/runner/in_process_group.hpp"
#include "normcheck/runner/scenarios.hpp"

namespace normcheck::runner {

namespace {

// The threads of this process (/proc/self/task lists each one).
int thread_count() {
  std::error_code ec;
  int threads = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++threads;
  return threads;
}


namespace names = fixture::names;
using compare::Output;
using fixture::Tensor;
using model::Problem;

constexpr std::size_t kMessageSize = 1024;

enum class Role { input, output };

// A buffer a call touches: inputs must come back unchanged, outputs are
// emitted under `emit_as` (when not empty) if the call succeeds.
struct Binding {
  std::string name;
  GuardedBuffer* buffer;
  Role role;
  std::string emit_as;
};

struct CallOutcome {
  nc_status status = NC_OK;
  std::string message;
};

const Tensor* find(const std::map<std::string, Tensor>& m, const std::string& name) {
  const auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

std::optional<GuardedBuffer> maybe_input(const Tensor* t) {
  if (t == nullptr) return std::nullopt;
  return GuardedBuffer::input(*t);
}

DLTensor* dl(std::optional<GuardedBuffer>& b) {
  return b ? b->tensor() : nullptr;
}

// An output buffer of the table's dtype for `o`, when the call has `o`.
std::optional<GuardedBuffer> offered(Output o, const Problem& call,
                                     std::vector<std::int64_t> shape) {
  std::optional<GuardedBuffer> b;
  if (compare::present(o, call))
    b = GuardedBuffer::output(compare::dtype_of(compare::spec(o).role, call), std::move(shape));
  return b;
}

Problem with_batch(Problem p, std::int64_t rows, model::Mode mode) {
  p.shape[0] = rows;
  p.mode = mode;
  p.shards.clear();
  return p;
}

// The buffers of one forward call.
struct ForwardIO {
  Problem problem;
  nc_problem abi{};
  std::optional<GuardedBuffer> x, residual, gamma, beta, running_mean, running_var;
  std::optional<GuardedBuffer> y, residual_out, saved_mean, saved_rstd;

  nc_forward_args args(const nc_collectives* collectives) {
    return nc_forward_args{
        dl(x), dl(residual),     dl(gamma),      dl(beta),       dl(running_mean), dl(running_var),
        dl(y), dl(residual_out), dl(saved_mean), dl(saved_rstd), collectives};
  }

  // `step` > 0: emit the updated running statistics under their golden's
  // name for that step (under `running_prefix`, which later training steps
  // leave empty so that they continue the main run's trajectory). Without
  // `prefix` the other outputs are bound and checked but not emitted: no
  // golden exists for a trajectory's later steps.
  std::vector<Binding> bindings(const std::string& prefix, int step) {
    return bindings(prefix, step, prefix);
  }
  std::vector<Binding> bindings(const std::optional<std::string>& prefix, int step,
                                const std::string& running_prefix) {
    std::vector<Binding> b;
    const auto in = [&](const char* name, std::optional<GuardedBuffer>& buf) {
      if (buf) b.push_back({name, &*buf, Role::input, ""});
    };
    const auto out = [&](Output o, std::optional<GuardedBuffer>& buf) {
      if (buf)
        b.push_back({std::string(compare::name(o)), &*buf, Role::output,
                     prefix ? compare::name(o, *prefix) : ""});
    };
    const auto running = [&](compare::Check c, std::optional<GuardedBuffer>& buf) {
      const auto& spec = compare::spec(c);
      if (buf)
        b.push_back({std::string(compare::name(*spec.output)), &*buf, Role::output,
                     step > 0 ? running_prefix + compare::golden_name(spec, step) : ""});
    };
    in(names::x, x);
    in(names::residual, residual);
    in(names::gamma, gamma);
    in(names::beta, beta);
    if (compare::present(Output::running_mean, problem)) {
      running(compare::Check::running_mean, running_mean);
      running(compare::Check::running_var, running_var);
    } else {
      in(names::running_mean, running_mean);
      in(names::running_var, running_var);
    }
    out(Output::y, y);
    out(Output::residual_out, residual_out);
    out(Output::saved_mean, saved_mean);
    out(Output::saved_rstd, saved_rstd);
    return b;
  }
};

// The buffers of one backward call (its other inputs live in a ForwardIO).
struct BackwardIO {
  std::optional<GuardedBuffer> dy, dx, dresidual, dgamma, dbeta;
};

class Executor {
  friend class normcheck::runner::ShardExecutor;

 public:
  Executor(const nc_backend_v1& b, const fixture::Case& c, ReportWriter& out)
      : b_(b), c_(c), p_(c.problem), s_(scenarios_for(c)), out_(out),
        threads_at_start_(thread_count()) {}

  void run();

 private:
  nc_status invoke(std::string_view name, const std::function<CallOutcome()>& body,
                   const std::vector<Binding>& bindings);
  // A call the backend cannot take (no such function in its table).
  nc_status decline(std::string_view name, std::string_view message,
                    const std::vector<Binding>& bindings) {
    out_.begin_call(name, expected_outputs(bindings));
    out_.end_call(NC_UNSUPPORTED, message, 0.0);
    return NC_UNSUPPORTED;
  }
  static std::vector<std::string> expected_outputs(const std::vector<Binding>& bindings) {
    std::vector<std::string> e;
    for (const auto& b : bindings)
      if (!b.emit_as.empty()) e.push_back(b.emit_as);
    return e;
  }

  const Tensor& input(const std::string& name) const { return c_.inputs.at(name); }

  ForwardIO make_forward(const Problem& call, const Tensor& x, std::int64_t first_row,
                         std::optional<GuardedBuffer> running_mean,
                         std::optional<GuardedBuffer> running_var) const;
  BackwardIO make_backward(const Problem& call, std::int64_t first_row) const;

  nc_status supports();
  nc_status forward(std::string_view name, ForwardIO& io, const std::string& prefix, int step,
                    const nc_collectives* collectives = nullptr);
  nc_status backward(std::string_view name, ForwardIO& fio, BackwardIO& bio,
                     const std::string& prefix, const nc_collectives* collectives = nullptr);
  void check_late_writes();
  std::vector<Binding> backward_bindings(ForwardIO& fio, BackwardIO& bio,
                                         const std::string& prefix) const;
  nc_backward_args backward_args(ForwardIO& fio, BackwardIO& bio,
                                 const nc_collectives* collectives) const;

  void run_plain();
  void run_main(const std::string& prefix);
  void run_trajectory(ForwardIO& first);
  void run_sync(const std::string& prefix);
  void run_conv_bn(const std::string& prefix);

  // Every buffer a call touched, as that call left it: checked again once
  // every call has returned (a kernel thread still writing is caught and
  // charged to the last call that was given the buffer).
  struct LastTouch {
    std::string call, name;
    std::shared_ptr<const GuardedBuffer::Storage> storage;
    bool guards_intact = true;
    std::uint64_t fingerprint = 0;
    bool late = false;  // a late write was reported
  };

  const nc_backend_v1& b_;
  const fixture::Case& c_;
  const Problem& p_;
  Scenarios s_;
  ReportWriter& out_;
  std::map<const GuardedBuffer::Storage*, LastTouch> touched_;
  int threads_at_start_ = 0;
};

namespace {

// How long a worker whose kernel left new threads behind waits before the
// second late-write check: long enough for a runnable thread to be
// scheduled on a loaded 2-core machine (2 ms missed 1 late writer in 40
// under a parallel build, 5 ms none in 80), short enough for pools
// (oneDNN, libtorch) to cost little per case. Threads that write later than
// this are not caught; the whole buffer is fingerprinted, so any write
// before it is.
constexpr auto kQuiescence = std::chrono::milliseconds(5);

}  // namespace

void Executor::check_late_writes() {
  const auto check = [this] {
    for (auto& [key, t] : touched_) {
      if (t.late) continue;  // reported once
      if (t.guards_intact && t.storage->guard_damage().any()) {
        out_.late_write(t.call,
                        fmt::format("{}: guard bytes changed after the call returned", t.name));
        t.late = true;
      } else if (t.storage->payload_fingerprint() != t.fingerprint) {
        out_.late_write(t.call, fmt::format("{}: changed after the call returned", t.name));
        t.late = true;
      }
    }
  };
  check();
  // The calls have returned; a thread the kernel started during this case
  // may still be runnable and not yet scheduled (the first check then sees
  // nothing): check again after a moment. Only for threads started during
  // the case, so that a persistent pool (oneDNN's, libtorch's) costs the
  // wait once per worker, not once per case.
  if (thread_count() > threads_at_start_) {
    std::this_thread::sleep_for(kQuiescence);
    check();
  }
}

nc_status Executor::invoke(std::string_view name, const std::function<CallOutcome()>& body,
                           const std::vector<Binding>& bindings) {
  std::vector<Tensor> before;
  for (const auto& b : bindings)
    before.push_back(b.role == Role::input ? b.buffer->contents() : Tensor{});
  out_.begin_call(name, expected_outputs(bindings));
  const auto start = std::chrono::steady_clock::now();
  const CallOutcome outcome = body();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out_.end_call(outcome.status, outcome.message, seconds);
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const Binding& b = bindings[i];
    const auto damage = b.buffer->guard_damage();
    if (damage.any())
      out_.overrun(fmt::format("{}: {} guard bytes changed before the tensor, {} after", b.name,
                               damage.before, damage.after));
    if (b.role == Role::input && !b.buffer->equals(before[i])) out_.modified_input(b.name);
    const auto storage = b.buffer->storage();
    touched_[storage.get()] = LastTouch{std::string(name), b.name, storage, !damage.any(),
                                        storage->payload_fingerprint()};
  }
  if (outcome.status == NC_OK)
    for (const auto& b : bindings)
      if (!b.emit_as.empty()) out_.output(b.emit_as, b.buffer->contents());
  return outcome.status;
}

CallOutcome call_backend(const std::function<nc_status(char*, std::size_t)>& fn) {
  char message[kMessageSize] = {};
  CallOutcome o;
  // A C++ exception thrown across the C ABI is the backend's error, not the
  // harness's: it is caught here and reported against the call.
  try {
    o.status = fn(message, sizeof message);
  } catch (const std::exception& e) {
    o.status = NC_INTERNAL_ERROR;
    o.message = std::string("the backend threw a C++ exception through the C ABI: ") + e.what();
    return o;
  } catch (...) {
    o.status = NC_INTERNAL_ERROR;
    o.message = "the backend threw a non-standard exception through the C ABI";
    return o;
  }
  message[kMessageSize - 1] = '\0';
  o.message = message;
  return o;
}

ForwardIO Executor::make_forward(const Problem& call, const Tensor& x, std::int64_t first_row,
                                 std::optional<GuardedBuffer> running_mean,
                                 std::optional<GuardedBuffer> running_var) const {
  ForwardIO io;
  io.problem = call;
  io.abi = backend::to_abi(call);
  const std::int64_t rows = call.shape[0];
  io.x = GuardedBuffer::input_rows(x, first_row, rows);
  if (const Tensor* r = find(c_.inputs, names::residual))
    io.residual = GuardedBuffer::input_rows(*r, first_row, rows);
  io.gamma = maybe_input(find(c_.inputs, names::gamma));
  io.beta = maybe_input(find(c_.inputs, names::beta));
  if (fixture::has_running_stat_inputs(call)) {
    io.running_mean =
        running_mean ? std::move(running_mean) : maybe_input(find(c_.inputs, names::running_mean));
    io.running_var =
        running_var ? std::move(running_var) : maybe_input(find(c_.inputs, names::running_var));
  }
  io.y = offered(Output::y, call, call.shape);
  io.residual_out = offered(Output::residual_out, call, call.shape);
  io.saved_mean = offered(Output::saved_mean, call, model::stat_shape(call));
  io.saved_rstd = offered(Output::saved_rstd, call, model::stat_shape(call));
  return io;
}

BackwardIO Executor::make_backward(const Problem& call, std::int64_t first_row) const {
  BackwardIO io;
  io.dy = GuardedBuffer::input_rows(input(names::dy), first_row, call.shape[0]);
  io.dx = offered(Output::dx, call, call.shape);
  io.dresidual = offered(Output::dresidual, call, call.shape);
  io.dgamma = offered(Output::dgamma, call, model::param_shape(call));
  io.dbeta = offered(Output::dbeta, call, model::param_shape(call));
  return io;
}

nc_status Executor::forward(std::string_view name, ForwardIO& io, const std::string& prefix,
                            int step, const nc_collectives* collectives) {
  return invoke(
      name,
      [&] {
        const nc_forward_args args = io.args(collectives);
        return call_backend(
            [&](char* m, std::size_t n) { return b_.forward(&io.abi, &args, m, n); });
      },
      io.bindings(prefix, step));
}

nc_backward_args Executor::backward_args(ForwardIO& fio, BackwardIO& bio,
                                         const nc_collectives* collectives) const {
  const bool running = fixture::normalizes_with_running_stats(fio.problem);
  return nc_backward_args{dl(bio.dy),
                          fio.residual_out ? fio.residual_out->tensor() : dl(fio.x),
                          dl(fio.gamma),
                          dl(fio.saved_mean),
                          dl(fio.saved_rstd),
                          running ? dl(fio.running_mean) : nullptr,
                          running ? dl(fio.running_var) : nullptr,
                          dl(bio.dx),
                          dl(bio.dresidual),
                          dl(bio.dgamma),
                          dl(bio.dbeta),
                          collectives};
}

std::vector<Binding> Executor::backward_bindings(ForwardIO& fio, BackwardIO& bio,
                                                 const std::string& prefix) const {
  std::vector<Binding> b;
  const auto in = [&](const char* name, std::optional<GuardedBuffer>& buf) {
    if (buf) b.push_back({name, &*buf, Role::input, ""});
  };
  const auto out = [&](Output o, std::optional<GuardedBuffer>& buf) {
    if (buf) b.push_back({std::string(compare::name(o)), &*buf, Role::output, compare::name(o, prefix)});
  };
  in(names::dy, bio.dy);
  if (fio.residual_out)
    in(names::residual_out, fio.residual_out);
  else
    in(names::x, fio.x);
  in(names::gamma, fio.gamma);
  in(names::saved_mean, fio.saved_mean);
  in(names::saved_rstd, fio.saved_rstd);
  if (fixture::normalizes_with_running_stats(fio.problem)) {
    in(names::running_mean, fio.running_mean);
    in(names::running_var, fio.running_var);
  }
  out(Output::dx, bio.dx);
  out(Output::dresidual, bio.dresidual);
  out(Output::dgamma, bio.dgamma);
  out(Output::dbeta, bio.dbeta);
  return b;
}

nc_status Executor::backward(std::string_view name, ForwardIO& fio, BackwardIO& bio,
                             const std::string& prefix, const nc_collectives* collectives) {
  if (b_.backward == nullptr)
    return decline(name, "the backend's table has no backward()",
                   backward_bindings(fio, bio, prefix));
  return invoke(
      name,
      [&] {
        const nc_backward_args args = backward_args(fio, bio, collectives);
        return call_backend(
            [&](char* m, std::size_t n) { return b_.backward(&fio.abi, &args, m, n); });
      },
      backward_bindings(fio, bio, prefix));
}

nc_status Executor::supports() {
  const nc_problem abi = backend::to_abi(p_);
  const CallOutcome answer =
      call_backend([&](char* m, std::size_t n) { return b_.supports(&abi, m, n); });
  out_.supports(answer.status, answer.message);
  return answer.status;
}

void Executor::run() {
  if (supports() != NC_OK) return;
  if (s_.conv_bn) {
    run_conv_bn("");
    run_conv_bn(prefix::rerun);
  } else if (s_.sync) {
    run_sync("");
    run_sync(prefix::rerun);
  } else {
    run_plain();
  }
  check_late_writes();
}

void Executor::run_main(const std::string& prefix) {
  const std::string suffix = prefix.empty() ? "" : " (" + prefix.substr(0, prefix.size() - 1) + ")";
  ForwardIO fio = make_forward(p_, input(names::x), 0, std::nullopt, std::nullopt);
  if (forward("forward" + suffix, fio, prefix, 1) != NC_OK) return;
  if (s_.backward) {
    BackwardIO bio = make_backward(p_, 0);
    backward("backward" + suffix, fio, bio, prefix);
  }
  if (prefix.empty() && s_.trajectory) run_trajectory(fio);
}

void Executor::run_plain() {
  run_main("");
  const std::int64_t n = p_.batch();
  const bool running = fixture::normalizes_with_running_stats(p_);
  if (s_.eval_single && running) {  // one sample of an eval-mode batch alone
    ForwardIO io = make_forward(with_batch(p_, 1, p_.mode), input(names::x), n - 1, std::nullopt,
                                std::nullopt);
    forward("forward (one sample)", io, prefix::single, 0);
  }
  if (s_.train_eval_identity) {
    ForwardIO io = make_forward(with_batch(p_, n, model::Mode::eval), input(names::x), 0,
                                std::nullopt, std::nullopt);
    forward("forward (eval mode)", io, prefix::eval_mode, 0);
  }
  run_main(prefix::rerun);
  if (s_.batch_invariance) {
    const std::int64_t first = s_.sub_batch_first;
    const Problem sub = with_batch(p_, n - first, p_.mode);
    ForwardIO fio = make_forward(sub, input(names::x), first, std::nullopt, std::nullopt);
    if (forward("forward (sub-batch)", fio, prefix::sub, 0) == NC_OK && s_.backward) {
      BackwardIO bio = make_backward(sub, first);
      backward("backward (sub-batch)", fio, bio, prefix::sub);
    }
  }
}

void Executor::run_trajectory(ForwardIO& first) {
  // Carry the backend's own running statistics from step to step.
  std::optional<GuardedBuffer> running_mean = std::move(first.running_mean);
  std::optional<GuardedBuffer> running_var = std::move(first.running_var);
  for (int k = 1; k < p_.steps; ++k) {
    ForwardIO io = make_forward(p_, input(names::x_step(k)), 0, std::move(running_mean),
                                std::move(running_var));
    const nc_status st = invoke(
        fmt::format("forward (step {})", k + 1),
        [&] {
          const nc_forward_args args = io.args(nullptr);
          return call_backend(
              [&](char* m, std::size_t n) { return b_.forward(&io.abi, &args, m, n); });
        },
        io.bindings(std::nullopt, k + 1, ""));
    running_mean = std::move(io.running_mean);
    running_var = std::move(io.running_var);
    if (st != NC_OK) return;
  }
  const Tensor final_mean = running_mean->contents(), final_var = running_var->contents();
  const Problem eval = with_batch(p_, p_.batch(), model::Mode::eval);
  ForwardIO io =
      make_forward(eval, input(names::eval_x), 0, std::move(running_mean), std::move(running_var));
  forward("forward (eval after training)", io, prefix::eval, 0);
  if (s_.eval_single) {
    ForwardIO one =
        make_forward(with_batch(p_, 1, model::Mode::eval), input(names::eval_x), p_.batch() - 1,
                     GuardedBuffer::input(final_mean), GuardedBuffer::input(final_var));
    forward("forward (eval, one sample)", one, prefix::single, 0);
  }
}

void Executor::run_sync(const std::string& prefix) {
  const int ranks = int(p_.shards.size());
  std::vector<ForwardIO> fio;
  std::vector<BackwardIO> bio;
  std::int64_t first = 0;
  for (int r = 0; r < ranks; ++r) {
    const Problem shard = with_batch(p_, p_.shards[std::size_t(r)], p_.mode);
    fio.push_back(make_forward(shard, input(names::x), first, std::nullopt, std::nullopt));
    if (s_.backward) bio.push_back(make_backward(shard, first));
    first += p_.shards[std::size_t(r)];
  }
  // Every rank calls at once, each on its own thread, meeting in the
  // all-reduce; the first failing rank's status is the call's.
  const auto all_ranks =
      [&](const std::function<nc_status(int, const nc_collectives*, char*, std::size_t)>& call) {
        InProcessGroup group(ranks);
        std::vector<CallOutcome> outcomes(static_cast<std::size_t>(ranks));
        std::vector<std::thread> threads;
        for (int r = 0; r < ranks; ++r)
          threads.emplace_back([&, r] {
            outcomes[std::size_t(r)] = call_backend(
                [&](char* m, std::size_t n) { return call(r, group.collectives(r), m, n); });
            group.leave(r);
          });
        for (auto& t : threads) t.join();
        for (int r = 0; r < ranks; ++r)
          if (outcomes[std::size_t(r)].status != NC_OK)
            return CallOutcome{outcomes[std::size_t(r)].status,
                               fmt::format("rank {}: {}", r, outcomes[std::size_t(r)].message)};
        return CallOutcome{};
      };
  const std::string suffix = prefix.empty() ? "" : ", " + prefix.substr(0, prefix.size() - 1);
  std::vector<Binding> forward_bindings;
  for (int r = 0; r < ranks; ++r)
    for (auto& b : fio[std::size_t(r)].bindings(prefix + prefix::rank(r), 1))
      forward_bindings.push_back(b);
  const nc_status st = invoke(
      fmt::format("forward (SyncBN, {} ranks{})", ranks, suffix),
      [&] {
        return all_ranks([&](int r, const nc_collectives* c, char* m, std::size_t n) {
          auto& io = fio[std::size_t(r)];
          const nc_forward_args args = io.args(c);
          return b_.forward(&io.abi, &args, m, n);
        });
      },
      forward_bindings);
  if (st != NC_OK || !s_.backward) return;
  const std::string backward_name = fmt::format("backward (SyncBN, {} ranks{})", ranks, suffix);
  std::vector<Binding> backward_bindings_all;
  for (int r = 0; r < ranks; ++r)
    for (auto& b :
         backward_bindings(fio[std::size_t(r)], bio[std::size_t(r)], prefix + prefix::rank(r)))
      backward_bindings_all.push_back(b);
  if (b_.backward == nullptr) {
    decline(backward_name, "the backend's table has no backward()", backward_bindings_all);
    return;
  }
  invoke(
      backward_name,
      [&] {
        return all_ranks([&](int r, const nc_collectives* c, char* m, std::size_t n) {
          const nc_backward_args args = backward_args(fio[std::size_t(r)], bio[std::size_t(r)], c);
          return b_.backward(&fio[std::size_t(r)].abi, &args, m, n);
        });
      },
      backward_bindings_all);
}

void Executor::run_conv_bn(const std::string& prefix) {
  const std::string name = prefix.empty() ? "conv_bn_fold" : "conv_bn_fold (rerun)";
  GuardedBuffer weight = GuardedBuffer::input(input(names::conv_weight));
  std::optional<GuardedBuffer> bias = maybe_input(find(c_.inputs, names::conv_bias));
  std::optional<GuardedBuffer> gamma = maybe_input(find(c_.inputs, names::gamma));
  std::optional<GuardedBuffer> beta = maybe_input(find(c_.inputs, names::beta));
  GuardedBuffer running_mean = GuardedBuffer::input(input(names::running_mean));
  GuardedBuffer running_var = GuardedBuffer::input(input(names::running_var));
  const auto dtype = [&](Output o) { return compare::dtype_of(compare::spec(o).role, p_); };
  GuardedBuffer folded_weight = GuardedBuffer::output(dtype(Output::folded_weight), weight.shape());
  GuardedBuffer folded_bias = GuardedBuffer::output(dtype(Output::folded_bias), {p_.conv.out_channels});
  std::vector<Binding> bindings{
      {names::conv_weight, &weight, Role::input, ""},
      {names::running_mean, &running_mean, Role::input, ""},
      {names::running_var, &running_var, Role::input, ""},
      {std::string(compare::name(Output::folded_weight)), &folded_weight, Role::output,
       compare::name(Output::folded_weight, prefix)},
      {std::string(compare::name(Output::folded_bias)), &folded_bias, Role::output,
       compare::name(Output::folded_bias, prefix)}};
  if (bias) bindings.push_back({names::conv_bias, &*bias, Role::input, ""});
  if (gamma) bindings.push_back({names::gamma, &*gamma, Role::input, ""});
  if (beta) bindings.push_back({names::beta, &*beta, Role::input, ""});
  if (b_.conv_bn_fold == nullptr) {
    decline(name, "the backend's table has no conv_bn_fold()", bindings);
    return;
  }
  const nc_problem abi = backend::to_abi(p_);
  invoke(
      name,
      [&] {
        const nc_conv_bn_fold_args args{weight.tensor(),
                                        dl(bias),
                                        dl(gamma),
                                        dl(beta),
                                        running_mean.tensor(),
                                        running_var.tensor(),
                                        p_.eps,
                                        folded_weight.tensor(),
                                        folded_bias.tensor()};
        return call_backend(
            [&](char* m, std::size_t n) { return b_.conv_bn_fold(&abi, &args, m, n); });
      },
      bindings);
}

}  // namespace

void execute_case(const nc_backend_v1& backend, const fixture::Case& c, ReportWriter& out) {
  Executor(backend, c, out).run();
}

// One rank's calls: the same buffers, bindings, checks and declines as the
// in-process SyncBN above, with the collectives the rank was given.
struct ShardExecutor::State {
  State(const nc_backend_v1& b, const fixture::Case& c, int rank, int ranks,
        const nc_collectives* collectives, ReportWriter& out)
      : executor(b, c, out), rank(rank), ranks(ranks), collectives(collectives) {}
  Executor executor;
  int rank, ranks;
  const nc_collectives* collectives;
  std::string prefix;  // of the last forward
  std::optional<ForwardIO> forward;
  std::optional<BackwardIO> backward;
};

ShardExecutor::ShardExecutor(const nc_backend_v1& backend, const fixture::Case& c, int rank,
                             int ranks, const nc_collectives* collectives, ReportWriter& out)
    : state_(std::make_unique<State>(backend, c, rank, ranks, collectives, out)) {
  if (c.problem.shards.size() != std::size_t(ranks) || rank < 0 || rank >= ranks)
    throw std::invalid_argument(fmt::format("ShardExecutor: rank {} of {} for a case with {} shards",
                                            rank, ranks, c.problem.shards.size()));
}

ShardExecutor::~ShardExecutor() = default;

std::string ShardExecutor::call_name(const char* what, int ranks, const std::string& prefix) {
  const std::string run = prefix.empty() ? "" : ", " + prefix.substr(0, prefix.size() - 1);
  return fmt::format("{} (SyncBN over MPI, {} ranks{})", what, ranks, run);
}

nc_status ShardExecutor::supports() {
  return state_->executor.supports();
}

nc_status ShardExecutor::forward(const std::string& prefix) {
  State& s = *state_;
  Executor& ex = s.executor;
  const Problem shard = shard_problem(ex.p_, s.rank);
  s.prefix = prefix;
  s.backward.reset();
  s.forward = ex.make_forward(shard, ex.input(names::x), shard_first_sample(ex.p_, s.rank),
                              std::nullopt, std::nullopt);
  return ex.forward(call_name("forward", s.ranks, prefix), *s.forward,
                    prefix + prefix::rank(s.rank), 1, s.collectives);
}

nc_status ShardExecutor::backward(const std::string& prefix) {
  State& s = *state_;
  if (!s.forward || s.prefix != prefix)
    throw std::logic_error("ShardExecutor: backward without its forward");
  Executor& ex = s.executor;
  s.backward = ex.make_backward(s.forward->problem, shard_first_sample(ex.p_, s.rank));
  return ex.backward(call_name("backward", s.ranks, prefix), *s.forward, *s.backward,
                     prefix + prefix::rank(s.rank), s.collectives);
}

void ShardExecutor::finish() {
  state_->executor.check_late_writes();
}

}  // namespace normcheck::runner
