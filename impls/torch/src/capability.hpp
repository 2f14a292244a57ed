// What the libtorch backend runs, and why it declines the rest. Decided
// from the problem alone (no ATen call), so a query is cheap.
#pragma once

#include <optional>
#include <string>

#include "normcheck/backend.h"

namespace normcheck::torch_adapter {

// nullopt when the backend implements the problem, else the reason. Throws
// support::ArgumentError for a malformed problem.
std::optional<std::string> unsupported_reason(const nc_problem* p);

}  // namespace normcheck::torch_adapter
