#include <catch2/catch.hpp>

#include "normcheck/report/merge.hpp"
#include "normcheck/report/verdict.hpp"
#include "normcheck/report/writers.hpp"
#include "sample_results.hpp"

using Catch::Matchers::Contains;
using namespace normcheck::report;

namespace {

Record record(std::string case_id, std::string backend, std::string check, Status status) {
  Record x;
  x.case_id = std::move(case_id);
  x.backend = std::move(backend);
  x.check = std::move(check);
  x.status = status;
  if (status == Status::unsupported) x.message = std::string("no CUDA device");
  return x;
}

// A backend that passes two cases, and one that declines every case.
Results one_declines_everything() {
  Results r;
  r.run.fixtures = "/f";
  r.backends = {{"cpu", "1", "/b/libcpu.so", "cpu", false},
                {"cuda", "1", "/b/libcuda.so", "cuda", false}};
  for (std::string c :
       {"ln:f32:f32:4x8:eps=1e-5:dist=normal", "rms:f32:f32:4x8:eps=1e-5:dist=normal"}) {
    r.records.push_back(record(c, "cpu", "y", Status::pass));
    r.records.push_back(record(c, "cuda", "y", Status::unsupported));
    r.records.push_back(record(c, "cuda", "saved_rstd", Status::unsupported));
  }
  return r;
}

}  // namespace

TEST_CASE("nothing ran is not a pass: a backend given cases that executed no check fails the run") {
  Results r = one_declines_everything();
  CHECK(run_failed(r));
  const auto empty = failing_empty_backends(r);
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].backend == "cuda");
  CHECK(empty[0].cases == 2);
  CHECK(empty_backend_message(empty[0]) ==
        "cuda: 0 checks executed (4 unsupported, e.g. \"no CUDA device\")");
  CHECK(executed_line(backend_tallies(r)) == "cpu 2, cuda 0 checks executed");
  CHECK(verdict_word(r) == "FAILED");
  CHECK_THAT(render_summary_markdown(r), Contains("nothing ran, which is not a pass"));
  CHECK_THAT(render_html(r), Contains("<div class=\"banner nothing\"><b>cuda: 0 checks executed"));
  CHECK_THAT(render_junit_xml(r),
             Contains("<failure type=\"nothing_ran\" message=\"cuda: 0 checks"));
}

TEST_CASE("nothing ran passes when allowed for that backend") {
  Results r = one_declines_everything();
  r.backends[1].allow_unsupported = true;
  CHECK_FALSE(run_failed(r));
  CHECK(failing_empty_backends(r).empty());
  CHECK(empty_backends(r).size() == 1);  // still shown
  CHECK_THAT(render_summary_markdown(r), Contains("allowed (--allow-unsupported"));
}

TEST_CASE("a backend given no case at all is not 'nothing ran'") {
  Results r = one_declines_everything();
  std::erase_if(r.records, [](const Record& rec) { return rec.backend == "cuda"; });
  CHECK_FALSE(run_failed(r));
}

TEST_CASE("a shard only warns; merge judges the union of the shards") {
  Results a = one_declines_everything(), b = one_declines_everything();
  a.run.partial = b.run.partial = true;
  // Shard a: cuda ran nothing. Shard b: cuda ran one check.
  b.records.back().status = Status::pass;
  CHECK_FALSE(run_failed(a));
  CHECK_THAT(render_summary_markdown(a), Contains("one shard only: merge judges the whole run"));
  CHECK_FALSE(run_failed(merge_results({a, b}, {"a", "b"}).results));
  // Neither shard ran anything on cuda: the merged run fails.
  Results c = one_declines_everything();
  c.run.partial = true;
  const Merged m = merge_results({a, c}, {"a", "c"});
  CHECK_FALSE(m.results.run.partial);
  CHECK(run_failed(m.results));
}

TEST_CASE("top failures: unmeasured first, then by bound ratio; gating only") {
  const Results r = testing::sample_results();
  const auto top = top_failures(r, 10);
  REQUIRE(top.size() == 5);  // crash, timeout, overrun, error, fail (not the two excused)
  CHECK(top.back()->status == Status::fail);
  CHECK(top_failures(r, 2).size() == 2);
  CHECK(failure_count(r) == 5);
}

TEST_CASE("reproducer: the run's source, the backend as given, the case; shell-safe") {
  Results r = testing::sample_results();
  const Record& rec = r.records[1];
  CHECK(reproducer(r, rec) ==
        "normcheck run --fixtures fixtures/golden/quick --backend /x/liba.so --filter "
        "'ln:f32:f32:4x8:eps=1e-5:dist=offset'");
  r.run.reproduce = "/opt/nc/bin/normcheck run --fixtures '/my dir'";
  r.backends[0].argument = "cpu";
  CHECK(reproducer(r, rec) ==
        "/opt/nc/bin/normcheck run --fixtures '/my dir' --backend cpu --filter "
        "'ln:f32:f32:4x8:eps=1e-5:dist=offset'");
  r.run.reproduce = "normcheck run";
  r.run.cases_in_memory = true;
  CHECK(reproducer(r, rec) ==
        "normcheck run --backend cpu --descriptor 'ln:f32:f32:4x8:eps=1e-5:dist=offset'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("/a/b.so") == "/a/b.so");
}
