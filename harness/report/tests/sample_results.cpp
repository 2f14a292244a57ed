#include "sample_results.hpp"

#include <limits>

namespace normcheck::report::testing {

Results sample_results() {
  Results r;
  r.run.normcheck_version = "0.1.0";
  r.run.started = "2024-01-01T00:00:00Z";
  r.run.finished = "2024-01-01T00:01:00Z";
  r.run.hostname = "host";
  r.run.machine = "Linux x86_64";
  r.run.command = "normcheck run --suite quick --backend a --backend b";
  r.run.fixtures = "fixtures/golden/quick";
  r.run.tolerances = "reports/tolerances/default.toml";
  r.run.timeout_seconds = 60;
  r.run.cases_planned = r.run.cases_done = 2;
  r.backends = {{"a", "1.0", "/x/liba.so"}, {"b", "2.0", "/x/libb.so"}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto rec = [&](std::string backend, std::string check, Status s, double ratio) {
    Record x;
    x.case_id = "ln:f32:f32:4x8:eps=1e-5:dist=offset";
    x.backend = std::move(backend);
    x.op = "layer_norm";
    x.check = std::move(check);
    x.dtype = "f32";
    x.status = s;
    x.elements = 32;
    x.bound_ratio = ratio;
    x.max_abs_err = x.max_rel_err = x.max_ulp_err =
        s == Status::pass || s == Status::fail ? ratio : nan;
    x.tolerance = 1.0;
    x.kappa = 1e4;
    x.seconds = 0.25;
    return x;
  };
  r.records.push_back(rec("a", "y", Status::pass, 0.25));
  Record worst = rec("a", "dx", Status::fail, 3.5);
  worst.message = "bound ratio 3.5 > tolerance 1";
  worst.worst = WorstElement{"dx", {1, 7}, 1.5, 1.75, 0.0714, 1, 1e4, 1.0, 1e4};
  r.records.push_back(worst);
  Record known = rec("b", "y", Status::fail, std::numeric_limits<double>::infinity());
  known.gating = false;
  known.note = "expected_fail: E[x^2]-E[x]^2";
  r.records.push_back(known);
  Record crash = rec("b", "dx", Status::crash, nan);
  crash.message = "SIGSEGV (Segmentation fault) in backward <&>";
  r.records.push_back(crash);
  r.records.push_back(rec("b", "saved_mean", Status::timeout, nan));
  r.records.push_back(rec("b", "saved_rstd", Status::overrun, nan));
  Record unsupported = rec("a", "saved_rstd", Status::unsupported, nan);
  unsupported.message = "f16 not implemented";
  r.records.push_back(unsupported);
  r.records.push_back(rec("a", "determinism", Status::error, nan));
  Record advisory = rec("a", "batch_invariance", Status::fail, nan);
  advisory.gating = false;
  advisory.note = "advisory: require_batch_invariance = false";
  r.records.push_back(advisory);
  return r;
}

}  // namespace normcheck::report::testing
