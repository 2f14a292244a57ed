// A small run covering every status, gating and non-gating outcomes,
// non-finite metrics and a worst element, for the report tests.
#pragma once

#include "normcheck/report/results.hpp"

namespace normcheck::report::testing {

Results sample_results();

}  // namespace normcheck::report::testing
