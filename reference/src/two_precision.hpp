#pragma once
// Certification by agreement: evaluate the generic MPFR definition at p and
// 2p bits; an element is certified when both round to the same double, and
// precision doubles for the others until they agree or max_bits is reached.

#include <functional>
#include <vector>

#include "normcheck/reference/certification.hpp"
#include "normcheck/reference/generic.hpp"

namespace normcheck::reference::detail {

using MpfrOutputs = std::vector<std::vector<Mpfr>>;

inline constexpr unsigned kTwoPrecisionFirstBits = 128;
// 4096 bits lets an exactly-zero result (cancellation of O(1) terms) be seen
// as zero at two precisions: its computed value falls below 2^-1075, the
// half-way point to the smallest subnormal, only from about 1100 bits on.
inline constexpr unsigned kTwoPrecisionMaxBits = 4096;

// compute(bits) must return the same outputs, in the same shapes, at any bits.
std::vector<CertifiedVector> certify_two_precision(
    const std::function<MpfrOutputs(unsigned bits)>& compute,
    unsigned first_bits = kTwoPrecisionFirstBits, unsigned max_bits = kTwoPrecisionMaxBits);

// Round to nearest-even double; zero always +0, NaN the canonical quiet NaN.
double round_to_double(const Mpfr& v);

}  // namespace normcheck::reference::detail
