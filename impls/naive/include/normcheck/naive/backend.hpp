// The naive backend's function table, for tests that link the backend
// directly (the shared library exports the same table as
// normcheck_backend_v1()).
#pragma once

#include "normcheck/backend.h"

namespace normcheck::naive {

const nc_backend_v1& backend_table();

}  // namespace normcheck::naive
