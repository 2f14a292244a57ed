#include "symbolic.hpp"

#include <algorithm>
#include <stdexcept>

namespace normcheck::reference::detail {

Symbolic Symbolic::inv_sqrt(std::int64_t id, const Rational& v) {
  if (v <= 0) throw std::logic_error("Symbolic::inv_sqrt: v must be positive");
  Symbolic s;
  s.terms_.push_back({id, v, Rational(1)});
  return s;
}

void Symbolic::add_term(std::int64_t id, const Rational& v, const Rational& coef) {
  if (coef == 0) return;
  auto it = std::lower_bound(terms_.begin(), terms_.end(), id,
                             [](const Term& t, std::int64_t k) { return t.id < k; });
  if (it != terms_.end() && it->id == id) {
    it->coef += coef;
    if (it->coef == 0) terms_.erase(it);
  } else {
    terms_.insert(it, Term{id, v, coef});
  }
}

Symbolic operator+(const Symbolic& a, const Symbolic& b) {
  Symbolic r = a;
  r.q0_ += b.q0_;
  for (const auto& t : b.terms_) r.add_term(t.id, t.v, t.coef);
  return r;
}

Symbolic operator-(const Symbolic& a, const Symbolic& b) {
  Symbolic r = a;
  r.q0_ -= b.q0_;
  for (const auto& t : b.terms_) r.add_term(t.id, t.v, Rational(-t.coef));
  return r;
}

Symbolic operator*(const Symbolic& a, const Symbolic& b) {
  Symbolic r;
  r.q0_ = a.q0_ * b.q0_;
  for (const auto& t : a.terms_) r.add_term(t.id, t.v, Rational(t.coef * b.q0_));
  for (const auto& t : b.terms_) r.add_term(t.id, t.v, Rational(t.coef * a.q0_));
  for (const auto& s : a.terms_)
    for (const auto& t : b.terms_) {
      if (s.id != t.id) throw std::logic_error("Symbolic: product of two different atoms");
      r.q0_ += s.coef * t.coef / s.v;  // (1/sqrt(v))^2 = 1/v
    }
  return r;
}

bool Symbolic::equals(const Rational& m) const {
  Rational rational_part = q0_ - m;
  struct Class {
    Rational v;     // representative
    Rational coef;  // total coefficient of 1/sqrt(v)
  };
  std::vector<Class> classes;
  for (const auto& t : terms_) {
    if (auto r = rational_sqrt(t.v)) {  // 1/sqrt(v) is rational
      rational_part += t.coef / *r;
      continue;
    }
    bool placed = false;
    for (auto& c : classes) {
      // 1/sqrt(v) = sqrt(c.v / v) * 1/sqrt(c.v) when c.v / v is a square.
      if (auto rho = rational_sqrt(Rational(c.v / t.v))) {
        c.coef += t.coef * *rho;
        placed = true;
        break;
      }
    }
    if (!placed) classes.push_back({t.v, t.coef});
  }
  if (rational_part != 0) return false;
  return std::all_of(classes.begin(), classes.end(), [](const Class& c) { return c.coef == 0; });
}

}  // namespace normcheck::reference::detail
