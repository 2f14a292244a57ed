// The ABI view of a problem (nc_problem, impls/include/normcheck/backend.h),
// as the harness hands it to a loaded backend.
#pragma once

#include "normcheck/backend.h"
#include "normcheck/model/problem.hpp"

namespace normcheck::backend {

nc_problem to_abi(const model::Problem& p);

}  // namespace normcheck::backend
