#pragma once
// Every double the reference returns comes with a record of how it was
// certified to be the exact result rounded once to nearest (ties to even).

#include <cstdint>
#include <vector>

namespace normcheck::reference {

enum class CertMethod {
  // Exact sums + double-word evaluation with a rigorous error bound; elements
  // whose enclosure straddles a rounding boundary are re-evaluated in MPFR
  // interval arithmetic at rising precision, and exact ties/zeros are decided
  // by exact rational arithmetic. A certified value here is a proof.
  rigorous,
  // The generic templated MPFR path evaluated at two precisions p and 2p; a
  // value is certified when both round to the same double (precision doubles
  // until they do). Used for inputs outside the rigorous path's domain
  // (NaN/inf, |x| outside [2^-300, 2^300]) and as the independent definition.
  two_precision,
};

const char* to_string(CertMethod m);

struct Certification {
  CertMethod method = CertMethod::rigorous;
  // Highest working precision in bits any element needed (106 = double-word).
  int precision_bits = 0;
  bool all_certified = true;
  // Elements that needed more than the first evaluation.
  std::int64_t escalated = 0;
  // Elements decided by an exact rational comparison (value exactly on a
  // rounding midpoint, or exactly zero after cancellation).
  std::int64_t exact_decisions = 0;
  // Elements left uncertified: their value is the highest-precision estimate.
  std::int64_t uncertified = 0;

  void merge(const Certification& other);
};

struct CertifiedVector {
  std::vector<double> values;
  Certification cert;
};

}  // namespace normcheck::reference
