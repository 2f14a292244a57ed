// A backend that accepts every problem and returns at once without writing
// anything: what is left of a run's time is the harness's own cost (reading
// fixtures, starting calls on guarded buffers, the report stream, judging).
// Used only by scripts/bench-harness; its checks all fail (unwritten
// outputs), which is exactly the judging work of a failing kernel.
#include "normcheck/backend.h"

namespace {

nc_status supports(const nc_problem*, char*, size_t) { return NC_OK; }
nc_status forward(const nc_problem*, const nc_forward_args*, char*, size_t) { return NC_OK; }
nc_status backward(const nc_problem*, const nc_backward_args*, char*, size_t) { return NC_OK; }
nc_status conv_bn_fold(const nc_problem*, const nc_conv_bn_fold_args*, char*, size_t) {
  return NC_OK;
}

const nc_backend_v1 kTable = {NORMCHECK_BACKEND_ABI_VERSION, "noop", "0", supports, forward,
                              backward, conv_bn_fold};

}  // namespace

extern "C" __attribute__((visibility("default"))) const nc_backend_v1* normcheck_backend_v1(void) {
  return &kTable;
}
