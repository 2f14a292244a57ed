#include "two_precision.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "rounding.hpp"

namespace normcheck::reference::detail {

double round_to_double(const Mpfr& v) {
  return canonical(mpfr_get_d(v.backend().data(), MPFR_RNDN));
}

namespace {
std::vector<std::vector<double>> round_all(const MpfrOutputs& o) {
  std::vector<std::vector<double>> r(o.size());
  for (std::size_t k = 0; k < o.size(); ++k) {
    r[k].reserve(o[k].size());
    for (const Mpfr& v : o[k]) r[k].push_back(round_to_double(v));
  }
  return r;
}
}  // namespace

std::vector<CertifiedVector> certify_two_precision(
    const std::function<MpfrOutputs(unsigned)>& compute, unsigned first_bits, unsigned max_bits) {
  unsigned bits = first_bits;
  const std::vector<std::vector<double>> first = round_all(compute(bits));
  bits *= 2;
  std::vector<std::vector<double>> cur = round_all(compute(bits));
  const std::size_t outputs = first.size();
  if (cur.size() != outputs) throw std::logic_error("certify_two_precision: output count changed");

  std::vector<CertifiedVector> res(outputs);
  std::vector<std::vector<std::size_t>> pending(outputs);
  for (std::size_t k = 0; k < outputs; ++k) {
    if (cur[k].size() != first[k].size())
      throw std::logic_error("certify_two_precision: shape changed");
    res[k].cert.method = CertMethod::two_precision;
    res[k].cert.precision_bits = static_cast<int>(bits);
    res[k].values = cur[k];
    for (std::size_t i = 0; i < cur[k].size(); ++i)
      if (!same_double(first[k][i], cur[k][i])) pending[k].push_back(i);
  }
  auto any_pending = [&] {
    for (const auto& p : pending)
      if (!p.empty()) return true;
    return false;
  };
  while (any_pending() && bits < max_bits) {
    bits *= 2;
    std::vector<std::vector<double>> next = round_all(compute(bits));
    for (std::size_t k = 0; k < outputs; ++k) {
      std::vector<std::size_t> still;
      for (std::size_t i : pending[k]) {
        // Until certified, an element reports its highest-precision rounding.
        res[k].values[i] = next[k][i];
        if (same_double(next[k][i], cur[k][i])) {
          ++res[k].cert.escalated;
          res[k].cert.precision_bits = static_cast<int>(bits);
        } else {
          still.push_back(i);
        }
      }
      pending[k] = std::move(still);
    }
    cur = std::move(next);
  }
  for (std::size_t k = 0; k < outputs; ++k) {
    res[k].cert.uncertified = static_cast<std::int64_t>(pending[k].size());
    res[k].cert.escalated += res[k].cert.uncertified;
    res[k].cert.all_certified = pending[k].empty();
    if (!pending[k].empty()) res[k].cert.precision_bits = static_cast<int>(bits);
  }
  return res;
}

}  // namespace normcheck::reference::detail
