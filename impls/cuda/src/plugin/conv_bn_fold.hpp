// Conv-BN folding: a handful of values per output channel, so it runs on
// the host in double (support::fold_conv_bn, one rounding per output, as the
// cpu backend); device tensors are copied over and back.
#pragma once

#include "normcheck/backend.h"

namespace normcheck::cuda {

void fold_conv_bn_on_host(const nc_problem* problem, const nc_conv_bn_fold_args* args);

}  // namespace normcheck::cuda
