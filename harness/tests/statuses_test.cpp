// Every status the harness can give, produced by a deliberately broken
// backend plugin (harness/tests/backends), and the run goes on after each.
#include <catch2/catch.hpp>

#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/model/problem.hpp"
#include "run_support.hpp"

using Catch::Matchers::Contains;
using normcheck::compare::Status;
using namespace normcheck::testing;

namespace {

const normcheck::fixture::Case& layer_norm_case() {
  static const auto c = generated("ln:f32:4x64");
  return c;
}

}  // namespace

TEST_CASE("a backend that segfaults is reported as a crash, with the signal and the call") {
  const auto records = run_on("broken_segfault", {layer_norm_case()});
  const auto y = record(records, "y");
  CHECK(y.status == Status::crash);
  CHECK_THAT(y.message, Contains("in forward"));
  // Under AddressSanitizer the worker reports the SEGV itself and exits.
  CHECK_THAT(y.message, Contains("SIGSEGV") || Contains("exited with code") || Contains("SIGABRT"));
  for (const auto& r : records) CHECK(r.status == Status::crash);
}

TEST_CASE("abort() and _exit() in a kernel are crashes") {
  CHECK_THAT(record(run_on("broken_abort", {layer_norm_case()}), "y").message, Contains("SIGABRT"));
  const auto y = record(run_on("broken_exit", {layer_norm_case()}), "y");
  CHECK(y.status == Status::crash);
  CHECK_THAT(y.message, Contains("exited with code 3 in forward"));
}

TEST_CASE("a kernel that never returns is killed at the timeout") {
  const auto records =
      run_on("broken_hang", {layer_norm_case()}, normcheck::compare::Tolerances::builtin(), 1.0);
  const auto y = record(records, "y");
  CHECK(y.status == Status::timeout);
  CHECK_THAT(y.message, Contains("killed after 1 s in forward"));
  CHECK(y.seconds < 10.0);
}

TEST_CASE("a write past the end of an output is an overrun") {
  const auto records = run_on("broken_overrun", {layer_norm_case()});
  const auto y = record(records, "y");
  CHECK(y.status == Status::overrun);
  CHECK_THAT(y.message, Contains("y: 0 guard bytes changed before the tensor, 4 after"));
  // The backward ran on separate buffers and is judged on its own.
  CHECK(record(records, "dx").status == Status::fail);
}

TEST_CASE("elements a kernel never wrote fail the check, counted and located") {
  const auto y = record(run_on("broken_unwritten", {layer_norm_case()}), "y");
  CHECK(y.status == Status::fail);
  CHECK_THAT(y.message, Contains("1 of 256 elements never written (first: y 3,63)"));
}

TEST_CASE("a kernel that writes into its input is an error") {
  const auto y = record(run_on("broken_writes_input", {layer_norm_case()}), "y");
  CHECK(y.status == Status::error);
  CHECK_THAT(y.message, Contains("wrote into its input(s): x"));
}

TEST_CASE("an error status from the backend is an error, with its message") {
  const auto records = run_on("broken_errors", {layer_norm_case()});
  const auto y = record(records, "y");
  CHECK(y.status == Status::error);
  CHECK_THAT(y.message, Contains("NC_INTERNAL_ERROR: deliberate internal error"));
  CHECK(record(records, "dx").status == Status::error);  // never ran: the forward failed first
}

TEST_CASE("a backend that declines everything is unsupported, with its reason") {
  const auto records = run_on("broken_unsupported", {layer_norm_case(), generated("bn:f32:2x3x4")});
  REQUIRE_FALSE(records.empty());
  for (const auto& r : records) {
    CHECK(r.status == Status::unsupported);
    CHECK(r.message == "this test backend supports nothing");
    CHECK_FALSE(r.fails_run());
  }
}

TEST_CASE("a crash in the backward keeps the forward's results") {
  const auto records = run_on("broken_backward_crash", {layer_norm_case()});
  CHECK(record(records, "y").status == Status::fail);  // measured: zeros are wrong
  CHECK(record(records, "dx").status == Status::crash);
  CHECK_THAT(record(records, "dx").message, Contains("in backward"));
}

TEST_CASE("after a crash the run goes on with the next case") {
  const auto records =
      run_on("broken_backward_crash", {layer_norm_case(), generated("rms:f32:2x32")});
  std::size_t crashes = 0, measured = 0;
  for (const auto& r : records) {
    crashes += r.status == Status::crash ? 1 : 0;
    measured += r.measured() ? 1 : 0;
  }
  CHECK(crashes >= 2);
  CHECK(measured >= 4);
  CHECK(records.back().case_id == "rms:f32:f32:2x32:eps=1e-5:dist=normal");
}

TEST_CASE("plugins that are not backends are refused at load with a clear message") {
  using normcheck::backend::LoadedBackend;
  CHECK_THROWS_WITH(LoadedBackend::load(test_backend("broken_wrong_abi")),
                    Contains("ABI version 999"));
  CHECK_THROWS_WITH(LoadedBackend::load(test_backend("no_entry")),
                    Contains("does not export normcheck_backend_v1"));
}

TEST_CASE("a write of the old fixed guard byte past the end is still an overrun") {
  // The guards hold a per-run random pattern without 0xA5 runs to match.
  const auto y = record(run_on("broken_guard_pattern", {layer_norm_case()}), "y");
  // Each guard byte is random (never 0x00/0xFF): a 0xA5 write goes unseen
  // only where the pattern happens to hold 0xA5 (1 in 254 per byte), so
  // most of the 16 bytes, never none, are counted.
  CHECK(y.status == Status::overrun);
  CHECK_THAT(y.message, Catch::Matchers::Matches(".*y: 0 guard bytes changed before the tensor, "
                                                 "(1[0-6]|[5-9]) after.*"));
}

TEST_CASE("a write 4 KiB + 64 bytes past the end is an overrun, not a pass") {
  const auto y = record(run_on("broken_far_overrun", {layer_norm_case()}), "y");
  CHECK(y.status == Status::overrun);
  CHECK_THAT(y.message, Contains("4 after"));
}

TEST_CASE("a thread still writing after its call returned is caught and charged to that call") {
  const auto records = run_on("broken_late_write", {layer_norm_case()});
  const auto y = record(records, "y");
  CHECK(y.status == Status::overrun);
  CHECK_THAT(y.message, Contains("forward wrote outside its buffers: late write: y: changed after the call returned"));
}

TEST_CASE("a C++ exception thrown by a kernel is the backend's error, not the harness's") {
  const auto y = record(run_on("broken_throws", {layer_norm_case()}), "y");
  CHECK(y.status == Status::error);
  CHECK_THAT(y.message, Contains("threw a C++ exception through the C ABI: deliberate exception"));
}

TEST_CASE("a kernel that returns success without writing fails, properties included") {
  // Determinism and batch invariance would compare two unwritten (equally
  // poisoned) buffers and pass; they must refuse instead.
  const auto records = run_on("broken_silent", {layer_norm_case()});
  CHECK(record(records, "y").status == Status::fail);
  for (const char* property : {"determinism", "batch_invariance", "nan_placement"}) {
    INFO(property);
    const auto r = record(records, property);
    CHECK(r.status == Status::fail);
    CHECK_THAT(r.message, Contains("never written"));
  }
}

TEST_CASE("a forward-only plugin: forward judged, backward checks unsupported with the reason") {
  const auto records = run_on("broken_forward_only", {layer_norm_case()});
  CHECK(record(records, "y").status == Status::fail);  // measured: this backend writes zeros
  const auto dx = record(records, "dx");
  CHECK(dx.status == Status::unsupported);
  CHECK_THAT(dx.message, Contains("no backward()"));
}
