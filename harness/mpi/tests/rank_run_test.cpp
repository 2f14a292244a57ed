// Merging the ranks' worker reports into the one report the judge reads,
// and the transfer of a rank's result to rank 0.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>

#include "normcheck/mpi/channel.hpp"
#include "normcheck/mpi/rank_run.hpp"

using namespace normcheck;
using mpi::RankRun;
using runner::ProcessOutcome;
using runner::ReportWriter;

namespace {

// The bytes a worker writing through ReportWriter leaves behind.
std::string report_of(const std::function<void(ReportWriter&)>& write) {
  const int fd = memfd_create("rank_run_test", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  ReportWriter w(fd);
  write(w);
  const std::string bytes = mpi::read_from_start(fd);
  close(fd);
  return bytes;
}

fixture::Tensor values(std::vector<double> v) {
  const auto n = std::int64_t(v.size());
  return fixture::Tensor::from_doubles(numeric::DType::f32, {n}, v);
}

// A rank whose forward returned `status`, emitting rank<r>/y when NC_OK.
RankRun rank_forward(int r, nc_status status, const std::string& message = "") {
  RankRun run;
  run.report = report_of([&](ReportWriter& w) {
    w.supports(NC_OK, "");
    w.begin_call("forward (SyncBN over MPI, 2 ranks)", {"rank" + std::to_string(r) + "/y"});
    w.end_call(status, message, 0.25 * (r + 1));
    if (status == NC_OK)
      w.output("rank" + std::to_string(r) + "/y", values({double(r), double(r) + 0.5}));
    w.finish();
  });
  return run;
}

}  // namespace

TEST_CASE("rank_run: a rank's result survives the transfer bit for bit", "[mpi][merge]") {
  RankRun run = rank_forward(1, NC_OK);
  run.process.kind = ProcessOutcome::Kind::signaled;
  run.process.code = 11;
  run.process.seconds = 1.25;
  run.process.timeout_seconds = 60;
  run.process.log_tail = "segfault here";
  const RankRun back = mpi::decode_rank_run(mpi::encode_rank_run(run));
  CHECK(back.report == run.report);
  CHECK(back.process.kind == ProcessOutcome::Kind::signaled);
  CHECK(back.process.code == 11);
  CHECK(back.process.seconds == 1.25);
  CHECK(back.process.timeout_seconds == 60);
  CHECK(back.process.log_tail == "segfault here");
  const std::string bytes = mpi::encode_rank_run(run);
  CHECK_THROWS(mpi::decode_rank_run(bytes.substr(0, bytes.size() - 1)));
  CHECK_THROWS(mpi::decode_rank_run(bytes + "x"));
  CHECK_THROWS(mpi::decode_rank_run(""));
}

TEST_CASE("rank_run: successful ranks merge into one call with every rank's outputs",
          "[mpi][merge]") {
  const auto m = mpi::merge_ranks({rank_forward(0, NC_OK), rank_forward(1, NC_OK)});
  REQUIRE(m.report.supported);
  CHECK(*m.report.supported == NC_OK);
  CHECK(m.report.complete);
  REQUIRE(m.report.calls.size() == 1);
  const auto& call = m.report.calls[0];
  CHECK(call.name == "forward (SyncBN over MPI, 2 ranks)");
  CHECK(call.finished);
  CHECK(call.status == NC_OK);
  CHECK(call.expected == std::vector<std::string>{"rank0/y", "rank1/y"});
  CHECK(call.seconds == 0.5);  // the slowest rank's
  REQUIRE(m.report.outputs.size() == 2);
  CHECK(m.report.outputs.at("rank1/y").to_doubles() == std::vector<double>{1.0, 1.5});
  CHECK(m.process.clean());
}

TEST_CASE("rank_run: the first failing rank's status and message are the call's", "[mpi][merge]") {
  const auto m = mpi::merge_ranks({rank_forward(0, NC_OK),
                                   rank_forward(1, NC_INTERNAL_ERROR, "all-reduce failed"),
                                   rank_forward(2, NC_INVALID_ARGUMENT, "bad")});
  REQUIRE(m.report.calls.size() == 1);
  CHECK(m.report.calls[0].status == NC_INTERNAL_ERROR);
  CHECK(m.report.calls[0].message == "rank 1: all-reduce failed");
  CHECK(m.report.outputs.size() == 1);  // only rank 0's y arrived
}

TEST_CASE("rank_run: a rank that died mid-call marks the call unfinished and names itself",
          "[mpi][merge]") {
  RankRun dead;
  dead.report = report_of([](ReportWriter& w) {
    w.supports(NC_OK, "");
    w.begin_call("forward (SyncBN over MPI, 2 ranks)", {"rank1/y"});
    w.overrun("y: 4 guard bytes changed before the tensor, 0 after");
  });
  dead.process.kind = ProcessOutcome::Kind::signaled;
  dead.process.code = 6;
  dead.process.log_tail = "Aborted";
  RankRun alive = rank_forward(0, NC_INTERNAL_ERROR, "all-reduce failed");
  alive.process.seconds = 3.0;
  const auto m = mpi::merge_ranks({alive, dead});
  REQUIRE(m.report.calls.size() == 1);
  const auto& call = m.report.calls[0];
  CHECK_FALSE(call.finished);
  CHECK(call.name == "forward (SyncBN over MPI, 2 ranks) on rank 1");
  CHECK(call.overruns ==
        std::vector<std::string>{"rank 1: y: 4 guard bytes changed before the tensor, 0 after"});
  CHECK_FALSE(m.report.complete);
  CHECK(m.process.kind == ProcessOutcome::Kind::signaled);
  CHECK(m.process.code == 6);
  CHECK(m.process.log_tail == "rank 1: Aborted");
  CHECK(m.process.seconds == 3.0);
}

TEST_CASE(
    "rank_run: one rank declining declines the case, a rank that never answered leaves it open",
    "[mpi][merge]") {
  RankRun declines;
  declines.report = report_of([](ReportWriter& w) {
    w.supports(NC_UNSUPPORTED, "no collectives here");
    w.finish();
  });
  auto m = mpi::merge_ranks({rank_forward(0, NC_OK), declines});
  REQUIRE(m.report.supported);
  CHECK(*m.report.supported == NC_UNSUPPORTED);
  CHECK(m.report.unsupported_reason == "rank 1: no collectives here");

  RankRun silent;  // died before supports() returned
  silent.process.kind = ProcessOutcome::Kind::signaled;
  silent.process.code = 9;
  m = mpi::merge_ranks({rank_forward(0, NC_OK), silent});
  CHECK_FALSE(m.report.supported);
  CHECK(m.process.code == 9);
}
