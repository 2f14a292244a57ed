#pragma once
// Exact MPFR arithmetic on exact dyadic values: each result gets exactly the
// precision it needs, so no operation rounds.

#include <cstdint>

#include "mpfr_value.hpp"

namespace normcheck::reference::detail {

MpfrValue exact_int(std::int64_t n);
MpfrValue exact_mul(const MpfrValue& a, const MpfrValue& b);
MpfrValue exact_sub(const MpfrValue& a, const MpfrValue& b);
bool is_zero(const MpfrValue& a);

}  // namespace normcheck::reference::detail
