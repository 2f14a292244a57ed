// What the oneDNN backend runs, and why it declines the rest.
#pragma once

#include <optional>
#include <string>

#include "normcheck/backend.h"

namespace normcheck::onednn {

// nullopt when the backend implements the problem, else the reason. Throws
// support::ArgumentError for a malformed problem.
std::optional<std::string> unsupported_reason(const nc_problem* p);

}  // namespace normcheck::onednn
