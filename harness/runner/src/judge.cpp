#include "normcheck/runner/judge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

#include "normcheck/compare/check_table.hpp"
#include "normcheck/compare/error_model.hpp"
#include "normcheck/compare/metrics.hpp"
#include "normcheck/model/element_map.hpp"
#include "normcheck/runner/guarded_buffer.hpp"
#include "normcheck/runner/scenarios.hpp"

namespace normcheck::runner {

namespace {

namespace names = fixture::names;
using compare::Check;
using compare::CheckSpec;
using compare::Kind;
using compare::Output;
using compare::Status;
using fixture::Tensor;
using report::Record;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* text = strsignal(sig);
  return fmt::format("SIG{} ({})", abbrev != nullptr ? abbrev : std::to_string(sig).c_str(),
                     text != nullptr ? text : "unknown signal");
}

// Why an output cannot be judged, or nullopt when it can.
struct Unavailable {
  Status status;
  std::string message;
};

// One tensor compared against (a slice of) one golden tensor.
struct Piece {
  std::string tensor;  // output name, for the report
  std::vector<std::int64_t> shape;
  std::vector<double> actual;
  std::vector<std::uint8_t> unwritten;
  std::vector<double> golden, bound;
  std::string golden_name;         // for the group context of the worst element
  std::int64_t golden_offset = 0;  // flat index of the piece's first element in the golden
};

std::vector<double> slice(const std::vector<double>& v, std::int64_t first, std::int64_t count) {
  return {v.begin() + first, v.begin() + first + count};
}

std::int64_t row_elements(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

class Judge {
 public:
  Judge(const fixture::Case& c, const std::string& backend, const ChildReport& w,
        const ProcessOutcome& p, const compare::Tolerances& t)
      : c_(c),
        p_(c.problem),
        backend_(backend),
        w_(w),
        proc_(p),
        tol_(t),
        s_(scenarios_for(c)),
        model_(c) {}

  std::vector<Record> run();

 private:
  // Whether check `c` applies to this case (the scenarios and goldens it has).
  bool applies(const CheckSpec& c) const;
  void judge(const CheckSpec& c);

  Record base(const CheckSpec& c) const;
  std::optional<Unavailable> unavailable(const std::string& output) const;
  Unavailable dead(const std::string& during) const;
  Record not_measured(const CheckSpec& c, const Unavailable& why) const;

  Piece piece(const std::string& output, const std::string& golden_name,
              std::int64_t golden_offset = 0) const;
  // Measures and judges a check; its metrics also feed the NaN placement property.
  Record measure(const CheckSpec& c, const std::vector<Piece>& pieces);
  // The output of `c` as the worker emits it, under `prefix` (and per rank).
  std::vector<std::string> outputs(const CheckSpec& c, const std::string& prefix = "") const;
  void tensor_check(const CheckSpec& c);
  void rank_sum_check(const CheckSpec& c);
  void per_step_check(const CheckSpec& c);
  void one_sample_check(const CheckSpec& c);
  void conv_output_check(const CheckSpec& c);
  void bitwise_check(const CheckSpec& c,
                     const std::vector<std::pair<std::string, std::string>>& pairs,
                     const std::string& what);
  void nan_placement_check(const CheckSpec& c);
  void determinism_check(const CheckSpec& c);
  void batch_invariance_check(const CheckSpec& c);
  // A failed property gates only when the backend is required to have it.
  void property(Record& r, const CheckSpec& c) const;
  void add(Record r) { records_.push_back(std::move(r)); }
  void guarded(const CheckSpec& c, const std::function<void()>& body);

  const fixture::Case& c_;
  const model::Problem& p_;
  const std::string& backend_;
  const ChildReport& w_;
  const ProcessOutcome& proc_;
  const compare::Tolerances& tol_;
  Scenarios s_;
  compare::ErrorModel model_;
  std::vector<Record> records_;
  std::vector<std::pair<std::string, compare::TensorMetrics>> measured_;  // for nan placement
};

Record Judge::base(const CheckSpec& c) const {
  Record r;
  r.case_id = c_.descriptor();
  r.backend = backend_;
  r.op = std::string(model::op_name(p_.op));
  r.check = std::string(c.name);
  r.dtype = std::string(numeric::dtype_name(compare::dtype_of(c.role, p_)));
  r.max_abs_err = r.max_rel_err = r.max_ulp_err = r.bound_ratio = kNaN;
  r.tolerance = kNaN;
  r.kappa = model_.max_kappa();
  r.seconds = proc_.seconds;
  return r;
}

Unavailable Judge::dead(const std::string& during) const {
  Unavailable u{Status::crash, ""};
  switch (proc_.kind) {
    case ProcessOutcome::Kind::timed_out:
      u = {Status::timeout, fmt::format("killed after {} s {}", proc_.timeout_seconds, during)};
      break;
    case ProcessOutcome::Kind::interrupted:
      u = {Status::error, "interrupted " + during};
      break;
    default:
      u.message = fmt::format("{} {}", proc_.describe(), during);
  }
  if (!proc_.log_tail.empty()) u.message += "\nworker output:\n" + proc_.log_tail;
  return u;
}

std::optional<Unavailable> Judge::unavailable(const std::string& output) const {
  if (w_.supported && *w_.supported != NC_OK)
    return Unavailable{Status::unsupported, w_.unsupported_reason.empty() ? "declined by supports()"
                                                                          : w_.unsupported_reason};
  if (const CallRecord* call = w_.call_expected_to_produce(output)) {
    if (!call->finished) return dead("in " + call->name);
    if (call->status != NC_OK) {
      const char* code = call->status == NC_UNSUPPORTED        ? "NC_UNSUPPORTED"
                         : call->status == NC_INVALID_ARGUMENT ? "NC_INVALID_ARGUMENT"
                         : call->status == NC_INTERNAL_ERROR   ? "NC_INTERNAL_ERROR"
                                                               : "an unknown status";
      return Unavailable{call->status == NC_UNSUPPORTED ? Status::unsupported : Status::error,
                         fmt::format("{} returned {}: {}", call->name, code, call->message)};
    }
    if (!call->overruns.empty()) {
      std::string what;
      for (const auto& o : call->overruns) what += (what.empty() ? "" : "; ") + o;
      return Unavailable{Status::overrun,
                         fmt::format("{} wrote outside its buffers: {}", call->name, what)};
    }
    if (!call->modified_inputs.empty()) {
      std::string what;
      for (const auto& o : call->modified_inputs) what += (what.empty() ? "" : ", ") + o;
      return Unavailable{Status::error,
                         fmt::format("{} wrote into its input(s): {}", call->name, what)};
    }
    if (w_.outputs.contains(output)) return std::nullopt;
    return Unavailable{Status::error,
                       fmt::format("{} succeeded but '{}' did not arrive", call->name, output)};
  }
  if (!w_.harness_error.empty())
    return Unavailable{Status::error, "harness error in the worker: " + w_.harness_error};
  if (!proc_.clean() || !w_.complete) {
    if (const CallRecord* call = w_.unfinished_call()) return dead("in " + call->name);
    return dead(w_.supported ? "between calls" : "before supports() returned");
  }
  for (const auto& call : w_.calls)
    if (call.status != NC_OK)
      return Unavailable{call.status == NC_UNSUPPORTED ? Status::unsupported : Status::error,
                         fmt::format("not run: {} failed before it ({})", call.name, call.message)};
  return Unavailable{Status::error, fmt::format("no call produced '{}'", output)};
}

Record Judge::not_measured(const CheckSpec& c, const Unavailable& why) const {
  Record r = base(c);
  r.status = why.status;
  r.message = why.message;
  return r;
}

Piece Judge::piece(const std::string& output, const std::string& golden_name,
                   std::int64_t golden_offset) const {
  const Tensor& t = w_.outputs.at(output);
  Piece pc;
  pc.tensor = output;
  pc.shape = t.shape;
  pc.actual = t.to_doubles();
  pc.unwritten = unwritten_mask(t);
  const std::vector<double> golden = c_.golden.at(golden_name).to_doubles();
  const std::vector<double> bound = model_.bound(golden_name);
  pc.golden = slice(golden, golden_offset, t.count());
  pc.bound = slice(bound, golden_offset, t.count());
  pc.golden_name = golden_name;
  pc.golden_offset = golden_offset;
  return pc;
}

Record Judge::measure(const CheckSpec& c, const std::vector<Piece>& pieces) {
  Record r = base(c);
  const numeric::DType dtype = compare::dtype_of(c.role, p_);
  const compare::Limit limit = tol_.limit(backend_, r.op, r.check, r.dtype);
  r.tolerance = limit.max_bound_ratio;
  r.ulp_tolerance = limit.max_ulp;
  std::optional<compare::TensorMetrics> total;
  const Piece* worst_piece = nullptr;
  const Piece* first_unwritten = nullptr;  // and the index there
  std::int64_t first_unwritten_at = -1;
  for (const auto& pc : pieces) {
    const auto m = compare::measure(pc.golden, pc.actual, pc.bound, dtype, pc.unwritten);
    if (m.unwritten > 0 && first_unwritten == nullptr) {
      first_unwritten = &pc;
      first_unwritten_at = m.first_unwritten;
    }
    bool worse = false;
    total = total ? compare::combine(*total, m, &worse) : m;
    if (worst_piece == nullptr || worse) worst_piece = &pc;
  }
  const auto& m = *total;
  measured_.emplace_back(r.check, m);
  r.elements = m.elements;
  r.max_abs_err = m.max_abs_err;
  r.max_rel_err = m.max_rel_err;
  r.max_ulp_err = m.max_ulp_err;
  r.bound_ratio = m.bound_ratio;
  if (m.worst && worst_piece != nullptr) {
    report::WorstElement w;
    w.tensor = worst_piece->tensor;
    w.index = model::unravel(m.worst->flat, worst_piece->shape);
    w.golden = m.worst->golden;
    w.actual = m.worst->actual;
    w.bound = m.worst->bound;
    if (const auto ctx =
            model_.context(worst_piece->golden_name, worst_piece->golden_offset + m.worst->flat)) {
      w.group = ctx->group;
      w.group_mean = ctx->mean;
      w.group_rstd = ctx->rstd;
      w.kappa = ctx->kappa;
    }
    r.worst = w;
  }
  std::vector<std::string> problems;
  if (m.unwritten > 0)
    problems.push_back(fmt::format(
        "{} of {} elements never written (first: {} {})", m.unwritten, m.elements,
        first_unwritten->tensor,
        fmt::format("{}",
                    fmt::join(model::unravel(first_unwritten_at, first_unwritten->shape), ","))));
  if (!(m.bound_ratio <= limit.max_bound_ratio))
    problems.push_back(
        fmt::format("bound ratio {:.4g} > tolerance {:.4g}", m.bound_ratio, limit.max_bound_ratio));
  if (limit.max_ulp && !(m.max_ulp_err <= *limit.max_ulp))
    problems.push_back(
        fmt::format("{:.4g} ULPs > tolerance {:.4g}", m.max_ulp_err, *limit.max_ulp));
  r.status = problems.empty() ? Status::pass : Status::fail;
  for (const auto& p : problems) r.message += (r.message.empty() ? "" : "; ") + p;
  if (r.status == Status::fail) {
    if (const auto* e = tol_.expected_failure(backend_, r.case_id, r.check)) {
      r.gating = false;
      r.note = std::string(report::kKnownFailureNote) + e->reason;
    }
  }
  return r;
}

void Judge::guarded(const CheckSpec& c, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    Record r = base(c);
    r.status = Status::error;
    r.message = fmt::format("harness could not judge this check: {}", e.what());
    add(r);
  }
}

std::vector<std::string> Judge::outputs(const CheckSpec& c, const std::string& prefix) const {
  const std::string_view output = compare::name(*c.output);
  if (!s_.sync) return {prefix + std::string(output)};
  std::vector<std::string> o;
  for (std::size_t r = 0; r < p_.shards.size(); ++r)
    o.push_back(prefix + prefix::rank(int(r)) + std::string(output));
  return o;
}

void Judge::tensor_check(const CheckSpec& c) {
  guarded(c, [&] {
    const auto names = outputs(c, c.id == Check::eval_y ? prefix::eval : "");
    for (const auto& o : names)
      if (const auto why = unavailable(o)) return add(not_measured(c, *why));
    std::vector<Piece> pieces;
    std::int64_t offset = 0;
    const bool per_rank_copy = names.size() > 1 && c.ranks == compare::Ranks::copy;
    for (const auto& o : names) {
      pieces.push_back(piece(o, std::string(c.golden), per_rank_copy ? 0 : offset));
      offset += w_.outputs.at(o).count();
    }
    add(measure(c, pieces));
  });
}

// SyncBN: each rank's dgamma/dbeta is its shard's contribution (PyTorch's
// convention; data-parallel training all-reduces gradients afterwards), so
// the harness sums them, in double, before comparing with the golden.
void Judge::rank_sum_check(const CheckSpec& c) {
  guarded(c, [&] {
    const std::string golden(c.golden);
    Piece sum;
    const auto names = outputs(c);
    for (std::size_t r = 0; r < names.size(); ++r) {
      if (const auto why = unavailable(names[r])) return add(not_measured(c, *why));
      const Piece pc = piece(names[r], golden);
      if (r == 0) {
        sum = pc;
        sum.tensor = golden + " (sum over ranks)";
        continue;
      }
      for (std::size_t i = 0; i < sum.actual.size(); ++i) {
        sum.actual[i] += pc.actual[i];
        sum.unwritten[i] = std::uint8_t(sum.unwritten[i] | pc.unwritten[i]);
      }
    }
    add(measure(c, {sum}));
  });
}

// One output per training step, emitted under its golden's name.
void Judge::per_step_check(const CheckSpec& c) {
  guarded(c, [&] {
    const int steps = s_.sync ? 1 : p_.steps;
    std::vector<Piece> pieces;
    for (int k = 1; k <= steps; ++k) {
      const std::string golden = compare::golden_name(c, k);
      std::vector<std::string> names;
      if (s_.sync)
        for (std::size_t r = 0; r < p_.shards.size(); ++r)
          names.push_back(prefix::rank(int(r)) + golden);
      else
        names.push_back(golden);
      for (const auto& o : names) {
        if (const auto why = unavailable(o)) return add(not_measured(c, *why));
        pieces.push_back(piece(o, golden));
      }
    }
    Record r = measure(c, pieces);
    if (s_.sync && p_.steps > 1)
      r.message += std::string(r.message.empty() ? "" : "; ") +
                   "SyncBN: only the first training step is run";
    add(r);
  });
}

void Judge::one_sample_check(const CheckSpec& c) {
  guarded(c, [&] {
    const std::string output_name(compare::name(*c.output));
    const std::string golden(compare::spec(s_.trajectory ? Check::eval_y : Check::y).golden);
    const std::string batch_output = (s_.trajectory ? prefix::eval : "") + output_name;
    const std::string output = prefix::single + output_name;
    if (const auto why = unavailable(output)) return add(not_measured(c, *why));
    const std::int64_t row = row_elements(p_.shape);
    Record r = measure(c, {piece(output, golden, (p_.batch() - 1) * row)});
    // Within tolerance is the requirement; bitwise equality with the same
    // sample inside the batch is reported as information.
    if (w_.outputs.contains(batch_output)) {
      const Tensor& one = w_.outputs.at(output);
      const Tensor& all = w_.outputs.at(batch_output);
      const std::size_t bytes = one.bytes.size();
      const bool same =
          std::memcmp(one.bytes.data(), all.bytes.data() + all.bytes.size() - bytes, bytes) == 0;
      r.message += std::string(r.message.empty() ? "" : "; ") +
                   (same ? "bitwise equal to the same sample inside the full batch"
                         : "differs in bits from the same sample inside the full batch");
    }
    add(r);
  });
}

void Judge::conv_output_check(const CheckSpec& c) {
  guarded(c, [&] {
    const std::string weight(compare::name(Output::folded_weight)),
        bias(compare::name(Output::folded_bias));
    for (const auto& o : {weight, bias})
      if (const auto why = unavailable(o)) return add(not_measured(c, *why));
    const auto folded = model_.folded_conv(w_.outputs.at(weight).to_doubles(),
                                           w_.outputs.at(bias).to_doubles());
    const std::string golden(c.golden);
    Piece pc;
    pc.tensor = fmt::format("conv(x, {}) + {}", weight, bias);
    pc.shape = c_.golden.at(golden).shape;
    pc.actual = folded.y;
    pc.golden = c_.golden.at(golden).to_doubles();
    pc.bound = folded.bound;
    pc.golden_name = golden;
    add(measure(c, {pc}));
  });
}

// Elements whose bits differ between two tensors of the same dtype.
std::pair<std::int64_t, std::int64_t> bit_differences(const Tensor& a, const Tensor& b,
                                                      std::int64_t b_first_element) {
  const std::size_t size = numeric::dtype_size(a.dtype);
  std::int64_t count = 0, first = -1;
  for (std::int64_t i = 0; i < a.count(); ++i) {
    if (std::memcmp(a.bytes.data() + std::size_t(i) * size,
                    b.bytes.data() + std::size_t(i + b_first_element) * size, size) != 0) {
      if (first < 0) first = i;
      ++count;
    }
  }
  return {count, first};
}

// `pairs`: (output, reference output); the output must equal the reference
// bit for bit (for a sub-batch: the reference's trailing rows).
void Judge::bitwise_check(const CheckSpec& c,
                          const std::vector<std::pair<std::string, std::string>>& pairs,
                          const std::string& what) {
  guarded(c, [&] {
    Record r = base(c);
    std::int64_t elements = 0;
    std::vector<std::string> differences;
    // A reference that never arrived (say, a declined backward) leaves
    // nothing to compare against; a failed rerun is this check's outcome.
    std::vector<std::pair<std::string, std::string>> usable;
    for (const auto& pr : pairs)
      if (!unavailable(pr.second)) usable.push_back(pr);
    if (usable.empty()) return add(not_measured(c, *unavailable(pairs.front().second)));
    for (const auto& [output, reference] : usable) {
      if (const auto why = unavailable(output)) return add(not_measured(c, *why));
      const Tensor& a = w_.outputs.at(output);
      const Tensor& b = w_.outputs.at(reference);
      const std::int64_t offset = b.count() - a.count();  // sub-batch: the trailing rows
      // Two buffers the kernel never wrote hold the same poison: equal bits
      // there prove nothing, so such a comparison is refused, not passed.
      // Outputs without a golden (saved statistics offered in eval mode) are
      // not part of the contract: left unwritten, they are left out.
      const auto unwritten_count = [](const Tensor& t) {
        const auto mask = unwritten_mask(t);
        return std::count(mask.begin(), mask.end(), std::uint8_t(1));
      };
      if (!c_.golden.contains(reference) && unwritten_count(b) > 0) continue;
      for (const auto* t : {&a, &b}) {
        const auto never = unwritten_count(*t);
        if (never > 0)
          differences.push_back(fmt::format("{}: {} of {} elements never written, nothing to compare",
                                            t == &a ? output : reference, never, t->count()));
      }
      const auto [count, first] = bit_differences(a, b, offset);
      elements += a.count();
      if (count > 0)
        differences.push_back(fmt::format("{}: {} of {} elements differ (first at [{}])", output,
                                          count, a.count(),
                                          fmt::join(model::unravel(first, a.shape), ",")));
    }
    r.elements = elements;
    r.status = differences.empty() ? Status::pass : Status::fail;
    r.message = differences.empty() ? what : fmt::format("{}", fmt::join(differences, "; "));
    add(r);
  });
}

bool required(const compare::Requirements& r, compare::Requirement what) {
  switch (what) {
    case compare::Requirement::batch_invariance:
      return r.batch_invariance;
    case compare::Requirement::determinism:
      return r.determinism;
    case compare::Requirement::nan_placement:
      return r.nan_placement;
    case compare::Requirement::none:
      break;
  }
  return true;
}

void Judge::property(Record& r, const CheckSpec& c) const {
  if (r.status != Status::fail) return;
  if (!required(tol_.requirements(backend_), c.requirement)) {
    r.gating = false;
    r.note = fmt::format("{}require_{} is not set for this backend", report::kAdvisoryNote, c.name);
  } else if (const auto* e = tol_.expected_failure(backend_, r.case_id, r.check)) {
    // One rule for every check: a listed known failure does not fail the run.
    r.gating = false;
    r.note = std::string(report::kKnownFailureNote) + e->reason;
  }
}

void Judge::nan_placement_check(const CheckSpec& c) {
  Record r = base(c);
  if (measured_.empty()) {
    if (const auto why = unavailable(std::string(
            compare::name(s_.conv_bn ? Output::folded_weight : Output::y))))
      r = not_measured(c, *why);
    else
      return;
  } else {
    std::vector<std::string> bad;
    for (const auto& [check, m] : measured_) {
      r.elements += m.elements;
      if (m.unwritten > 0)
        bad.push_back(fmt::format("{}: {} elements never written, their placement cannot be judged",
                                  check, m.unwritten));
      if (m.nonfinite_mismatches > 0)
        bad.push_back(fmt::format(
            "{}: {} elements non-finite where the golden is not, or the other way round", check,
            m.nonfinite_mismatches));
    }
    r.status = bad.empty() ? Status::pass : Status::fail;
    r.message = bad.empty() ? "non-finite exactly where the golden is"
                            : fmt::format("{}", fmt::join(bad, "; "));
  }
  property(r, c);
  add(r);
}

void Judge::determinism_check(const CheckSpec& c) {
  // Every output of the main run that the rerun repeats (a trajectory's
  // later steps are not rerun).
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& call : w_.calls)
    for (const auto& o : call.expected) {
      const std::string again = std::string(prefix::rerun) + o;
      if (!o.starts_with(prefix::rerun) && w_.call_expected_to_produce(again) != nullptr)
        pairs.emplace_back(again, o);
    }
  if (pairs.empty()) {  // nothing ran: report why through the main output
    const std::string main(compare::name(s_.conv_bn ? Output::folded_weight : Output::y));
    pairs.emplace_back(std::string(prefix::rerun) + main, main);
  }
  const std::size_t before = records_.size();
  bitwise_check(c, pairs, "two runs gave the same bits in every output");
  if (records_.size() > before) property(records_.back(), c);
}

void Judge::batch_invariance_check(const CheckSpec& c) {
  // The per-sample outputs (not the statistics or parameter gradients).
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const Output o : {Output::y, Output::dx, Output::dresidual}) {
    if (compare::spec(o).call == compare::Call::backward && !s_.backward) continue;
    if (!compare::present(o, p_)) continue;
    pairs.emplace_back(compare::name(o, prefix::sub), compare::name(o));
  }
  const std::size_t before = records_.size();
  bitwise_check(c, pairs,
                fmt::format("samples {}..{} alone gave the same bits as inside the full batch",
                            s_.sub_batch_first, p_.batch() - 1));
  if (records_.size() > before) property(records_.back(), c);
}

bool Judge::applies(const CheckSpec& c) const {
  const auto has = [&](const std::string& golden) { return c_.golden.contains(golden); };
  const auto made = [&](compare::Call call) {
    switch (call) {
      case compare::Call::forward:
        return !s_.conv_bn;
      case compare::Call::backward:
        return s_.backward;
      case compare::Call::conv_bn_fold:
        return s_.conv_bn;
    }
    return false;
  };
  switch (c.kind) {
    case Kind::tensor:
      // eval_y reads the eval forward of a trajectory (not run for SyncBN).
      if (c.id == Check::eval_y) return s_.trajectory;
      return has(std::string(c.golden)) && made(compare::spec(*c.output).call) &&
             compare::present(*c.output, p_);
    case Kind::per_step:
      return !s_.conv_bn && has(compare::golden_name(c, 1));
    case Kind::one_sample:
      return s_.eval_single;
    case Kind::conv_output:
      return s_.conv_bn && has(std::string(c.golden));
    case Kind::bitwise:
      if (c.id == Check::train_eval_identity) return s_.train_eval_identity;
      if (c.id == Check::batch_invariance) return s_.batch_invariance;
      return true;
    case Kind::property:
      return true;
  }
  return false;
}

void Judge::judge(const CheckSpec& c) {
  switch (c.kind) {
    case Kind::tensor:
      return s_.sync && c.ranks == compare::Ranks::sum ? rank_sum_check(c) : tensor_check(c);
    case Kind::per_step:
      return per_step_check(c);
    case Kind::one_sample:
      return one_sample_check(c);
    case Kind::conv_output:
      return conv_output_check(c);
    case Kind::property:
      return nan_placement_check(c);
    case Kind::bitwise:
      if (c.id == Check::determinism) return determinism_check(c);
      if (c.id == Check::batch_invariance) return batch_invariance_check(c);
      return bitwise_check(
          c, {{compare::name(*c.output, prefix::eval_mode), compare::name(*c.output, "")}},
          "eval-mode output has the same bits as the training-mode output");
  }
}

std::vector<Record> Judge::run() {
  for (const CheckSpec& c : compare::check_table())
    if (applies(c)) judge(c);
  return records_;
}

}  // namespace

std::string ProcessOutcome::describe() const {
  switch (kind) {
    case Kind::signaled:
      return signal_name(code);
    case Kind::timed_out:
      return fmt::format("killed after {} s", timeout_seconds);
    case Kind::interrupted:
      return "interrupted";
    case Kind::exited:
      return code == 0 ? "exited early" : fmt::format("exited with code {}", code);
  }
  return "?";
}

std::vector<Record> judge_case(const fixture::Case& c, const std::string& backend,
                               const ChildReport& worker, const ProcessOutcome& process,
                               const compare::Tolerances& tolerances) {
  return Judge(c, backend, worker, process, tolerances).run();
}

}  // namespace normcheck::runner
