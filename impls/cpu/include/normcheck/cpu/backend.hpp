// The cpu backend's function table, for tests that link the backend
// directly (the shared library exports the same table as
// normcheck_backend_v1()).
#pragma once

#include "normcheck/backend.h"

namespace normcheck::cpu {

const nc_backend_v1& backend_table();

}  // namespace normcheck::cpu
