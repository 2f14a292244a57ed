// A SyncBatchNorm plugin whose last rank misbehaves in the forward, for
// the tests of run-mpi's fault handling. $NC_TEST_SYNCBN_FAULT picks how:
//   abort         the last rank aborts (SIGABRT) before its all-reduce
//   hang          the last rank never returns (run-mpi's --timeout kills it)
//   skip_reduce   the last rank returns NC_OK without taking part
// The other ranks all-reduce and report an error when that fails. Either
// way every rank must get a report and the run must end, never hang.
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#include "normcheck/support/backend_table.hpp"
#include "normcheck/support/statistics.hpp"

namespace {

using namespace normcheck::support;

struct Kernels {
  static constexpr const char* name = "syncbn_fault";
  static constexpr const char* version = "test";

  static void forward(const ForwardCall& call) {
    const nc_collectives* coll = call.collectives;
    if (coll == nullptr) throw Unsupported("syncbn_fault: SyncBN only");
    if (coll->rank == coll->size - 1) {
      const char* env = std::getenv("NC_TEST_SYNCBN_FAULT");
      const std::string_view fault = env != nullptr ? env : "abort";
      if (fault == "hang")
        while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
      if (fault == "skip_reduce") return;
      std::abort();
    }
    std::vector<double> sums(std::size_t(call.geo.channels), 1.0);
    allreduce_sum(*coll, sums);  // throws when the last rank is gone
  }
  static void backward(const BackwardCall&) { throw Unsupported("syncbn_fault: forward only"); }
  static void conv_bn_fold(const FoldCall&) { throw Unsupported("syncbn_fault: forward only"); }
};

}  // namespace

NC_BACKEND_EXPORT const nc_backend_v1* normcheck_backend_v1(void) {
  return &BackendTable<Kernels>::table;
}
