#include <unistd.h>
#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>
#include <string>

#include "normcheck/runner/child_report.hpp"

using normcheck::fixture::Tensor;
using normcheck::numeric::DType;
using namespace normcheck::runner;

namespace {

// Writes to a file descriptor, as the worker writes its report file.
std::string written(const std::function<void(ReportWriter&)>& f) {
  std::FILE* tmp = std::tmpfile();
  ReportWriter w(fileno(tmp));
  f(w);
  std::string bytes;
  std::rewind(tmp);
  for (int c; (c = std::fgetc(tmp)) != EOF;) bytes.push_back(char(c));
  std::fclose(tmp);
  return bytes;
}

}  // namespace

TEST_CASE("a complete report reads back") {
  const Tensor y = Tensor::from_doubles(DType::bf16, {2, 2}, {1, -2, 0.5, 8});
  const std::string bytes = written([&](ReportWriter& w) {
    w.supports(NC_OK, "");
    w.begin_call("forward", {"y", "saved_rstd"});
    w.end_call(NC_OK, "", 0.25);
    w.overrun("y: 0 before, 2 after");
    w.output("y", y);
    w.begin_call("backward", {"dx"});
    w.end_call(NC_UNSUPPORTED, "no backward for bf16", 0.0);
    w.finish();
  });
  const ChildReport r = parse_child_report(bytes);
  CHECK(r.complete);
  REQUIRE(r.supported);
  CHECK(*r.supported == NC_OK);
  REQUIRE(r.calls.size() == 2);
  CHECK(r.calls[0].finished);
  CHECK(r.calls[0].seconds == 0.25);
  CHECK(r.calls[0].overruns == std::vector<std::string>{"y: 0 before, 2 after"});
  CHECK(r.outputs.at("y") == y);
  CHECK(r.call_expected_to_produce("saved_rstd") == &r.calls[0]);
  CHECK(r.calls[1].status == NC_UNSUPPORTED);
  CHECK(r.calls[1].message == "no backward for bf16");
  CHECK(r.call_expected_to_produce("nothing") == nullptr);
  CHECK(r.unfinished_call() == nullptr);
}

TEST_CASE("a report cut anywhere reads up to the cut") {
  const std::string bytes = written([](ReportWriter& w) {
    w.supports(NC_OK, "");
    w.begin_call("forward", {"y"});
    w.end_call(NC_OK, "", 0.0);
    w.output("y", Tensor::from_doubles(DType::f32, {3}, {1, 2, 3}));
    w.begin_call("backward", {"dx"});
  });
  const ChildReport whole = parse_child_report(bytes);
  CHECK_FALSE(whole.complete);
  REQUIRE(whole.unfinished_call() != nullptr);
  CHECK(whole.unfinished_call()->name == "backward");
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    const ChildReport r =
        parse_child_report(bytes.substr(0, cut));  // never throws, never reads past
    CHECK_FALSE(r.complete);
    CHECK(r.outputs.size() <= 1);
  }
}
