// The judge fed worker reports and process outcomes directly (no worker,
// no backend): which records a case gets comes from the check table, and
// each kind of outcome maps to its status.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "normcheck/compare/check_table.hpp"
#include "normcheck/fixture/generator.hpp"
#include "normcheck/runner/judge.hpp"
#include "normcheck/runner/scenarios.hpp"

using namespace normcheck;
using compare::Check;
using compare::Status;
using Catch::Matchers::Contains;

namespace {

// A tensor as a correct kernel writes it: the golden rounded once to the
// output's dtype (`rows`: the trailing rows only, for a sub-batch).
fixture::Tensor rounded(const fixture::Case& c, const std::string& golden, Check check,
                        std::int64_t rows = -1) {
  const fixture::Tensor& g = c.golden.at(golden);
  auto values = g.to_doubles();
  auto shape = g.shape;
  if (rows >= 0) {
    const auto per_row = std::int64_t(values.size()) / shape[0];
    values.erase(values.begin(), values.end() - rows * per_row);
    shape[0] = rows;
  }
  return fixture::Tensor::from_doubles(compare::dtype_of(compare::spec(check).role, c.problem),
                                       shape, values);
}

struct Worker {
  runner::ChildReport report;
  void call(const std::string& name, const std::map<std::string, fixture::Tensor>& outputs,
            nc_status status = NC_OK, bool finished = true) {
    runner::CallRecord r;
    r.name = name;
    r.finished = finished;
    r.status = status;
    for (const auto& [o, t] : outputs) {
      r.expected.push_back(o);
      if (finished && status == NC_OK) {
        r.outputs.push_back(o);
        report.outputs.emplace(o, t);
      }
    }
    report.calls.push_back(r);
  }
};

// A layer norm with a fused residual, trained: every forward and backward
// check, and every property scenario (rerun, eval mode, sub-batch).
const fixture::Case& ln_case() {
  static const fixture::Case c = fixture::generate_case(model::parse_descriptor("ln:f32:4x32:res=1"));
  return c;
}

// The worker of a correct backend on ln_case(), up to `stop`: "forward"
// (the backward declined), "crash" (killed in the backward) or "" (all).
Worker correct_worker(const std::string& stop = "") {
  const fixture::Case& c = ln_case();
  const auto s = runner::scenarios_for(c);
  Worker w;
  w.report.supported = NC_OK;
  const auto forward = [&](const std::string& prefix) {
    return std::map<std::string, fixture::Tensor>{
        {prefix + "y", rounded(c, "y", Check::y)},
        {prefix + "residual_out", rounded(c, "residual_out", Check::residual_out)},
        {prefix + "saved_mean", rounded(c, "saved_mean", Check::saved_mean)},
        {prefix + "saved_rstd", rounded(c, "saved_rstd", Check::saved_rstd)}};
  };
  const auto backward = [&](const std::string& prefix, std::int64_t rows = -1) {
    std::map<std::string, fixture::Tensor> o{
        {prefix + "dx", rounded(c, "dx", Check::dx, rows)},
        {prefix + "dresidual", rounded(c, "dx", Check::dresidual, rows)}};
    if (rows < 0) {
      o.emplace(prefix + "dgamma", rounded(c, "dgamma", Check::dgamma));
      o.emplace(prefix + "dbeta", rounded(c, "dbeta", Check::dbeta));
    }
    return o;
  };
  w.call("forward", forward(""));
  if (stop == "forward") {
    w.call("backward", backward(""), NC_UNSUPPORTED);
  } else if (stop == "crash") {
    w.call("backward", backward(""), NC_OK, false);
    return w;
  } else {
    w.call("backward", backward(""));
  }
  w.call("forward (eval mode)", {{std::string(runner::prefix::eval_mode) + "y",
                                  rounded(c, "y", Check::y)}});
  w.call("forward (rerun)", forward(runner::prefix::rerun));
  if (stop != "forward") w.call("backward (rerun)", backward(runner::prefix::rerun));
  const std::int64_t rows = c.problem.batch() - s.sub_batch_first;
  w.call("forward (sub-batch)",
         {{std::string(runner::prefix::sub) + "y", rounded(c, "y", Check::y, rows)}});
  if (stop != "forward") w.call("backward (sub-batch)", backward(runner::prefix::sub, rows));
  w.report.complete = true;
  return w;
}

std::map<std::string, report::Record> by_check(const std::vector<report::Record>& records) {
  std::map<std::string, report::Record> m;
  for (const auto& r : records) REQUIRE(m.emplace(r.check, r).second);
  return m;
}

}  // namespace

TEST_CASE("a correct backend passes every check the table has for the case, named as in the table") {
  const auto records = runner::judge_case(ln_case(), "b", correct_worker().report, {},
                                          compare::Tolerances::builtin());
  const auto checks = by_check(records);
  // Which checks: the table's rows that apply to a trained layer norm with a
  // residual (no running statistics, no trajectory, no conv).
  std::set<std::string> expected;
  for (const Check c : {Check::y, Check::residual_out, Check::saved_mean, Check::saved_rstd,
                        Check::dx, Check::dresidual, Check::dgamma, Check::dbeta,
                        Check::train_eval_identity, Check::nan_placement, Check::determinism,
                        Check::batch_invariance})
    expected.insert(std::string(compare::spec(c).name));
  std::set<std::string> got;
  for (const auto& [name, r] : checks) got.insert(name);
  CHECK(got == expected);
  for (const auto& [name, r] : checks) {
    INFO(name << ": " << r.message);
    CHECK(r.status == Status::pass);
    CHECK(r.op == "layer_norm");
  }
  // A single rounding of the golden is within the bound (ratio < 1).
  CHECK(checks.at("y").bound_ratio < 1.0);
  CHECK(checks.at("dresidual").elements == ln_case().golden.at("dx").count());
}

TEST_CASE("an output off the golden fails at its tolerance, and a limit for that check admits it") {
  Worker w = correct_worker();
  auto& y = w.report.outputs.at("y");
  y.set(5, y.at(5) * 1.001);  // thousands of f32 ulps
  const auto failed = by_check(
      runner::judge_case(ln_case(), "b", w.report, {}, compare::Tolerances::builtin()));
  CHECK(failed.at("y").status == Status::fail);
  CHECK_THAT(failed.at("y").message, Contains("bound ratio"));
  CHECK(failed.at("saved_mean").status == Status::pass);
  const double limit = 2.0 * std::ceil(failed.at("y").bound_ratio);
  const auto loose = compare::Tolerances::parse(
      "schema_version = 1\n[[limit]]\nop = \"ln\"\ncheck = \"y\"\nmax_bound_ratio = " +
          std::to_string(int(limit)) + "\n",
      "t.toml");
  const auto admitted = by_check(runner::judge_case(ln_case(), "b", w.report, {}, loose));
  CHECK(admitted.at("y").status == Status::pass);
  CHECK(admitted.at("y").tolerance == limit);
}

TEST_CASE("a forward-only backend: backward checks unsupported, forward checks judged") {
  const auto checks = by_check(runner::judge_case(ln_case(), "b", correct_worker("forward").report,
                                                  {}, compare::Tolerances::builtin()));
  for (const char* name : {"y", "residual_out", "saved_mean", "saved_rstd", "train_eval_identity"})
    CHECK(checks.at(name).status == Status::pass);
  for (const char* name : {"dx", "dresidual", "dgamma", "dbeta"}) {
    INFO(name);
    CHECK(checks.at(name).status == Status::unsupported);
  }
}

TEST_CASE("a worker killed in the backward: its outputs are crashes naming the call and signal") {
  runner::ProcessOutcome killed;
  killed.kind = runner::ProcessOutcome::Kind::signaled;
  killed.code = 11;
  const auto checks = by_check(runner::judge_case(ln_case(), "b", correct_worker("crash").report,
                                                  killed, compare::Tolerances::builtin()));
  CHECK(checks.at("y").status == Status::pass);
  for (const char* name : {"dx", "dresidual", "dgamma", "dbeta"}) {
    INFO(name);
    CHECK(checks.at(name).status == Status::crash);
    CHECK_THAT(checks.at(name).message, Contains("SIGSEGV") && Contains("in backward"));
  }
  CHECK(checks.at("determinism").status == Status::crash);
}

TEST_CASE("a timeout is reported as one, with the limit") {
  Worker w = correct_worker("crash");
  runner::ProcessOutcome timed_out;
  timed_out.kind = runner::ProcessOutcome::Kind::timed_out;
  timed_out.timeout_seconds = 7;
  const auto checks = by_check(
      runner::judge_case(ln_case(), "b", w.report, timed_out, compare::Tolerances::builtin()));
  CHECK(checks.at("dx").status == Status::timeout);
  CHECK_THAT(checks.at("dx").message, Contains("killed after 7 s"));
}
