// The cpu backend's entry points per family of ops, and what their
// implementations share: arrays in the compute type of a data dtype, and
// dispatch from a runtime dtype to a typed kernel inside a SIMD clone.
#pragma once

#include <span>
#include <vector>

#include "normcheck/support/calls.hpp"
#include "line_aligned.hpp"
#include "simd.hpp"

namespace normcheck::cpu {

using numeric::DType;

void forward_rows(const support::ForwardCall& call);  // layer_norm, rms_norm
void backward_rows(const support::BackwardCall& call);
void forward_channels(const support::ForwardCall& call);  // batch, instance, group norm
void backward_channels(const support::BackwardCall& call);

// Values in the compute type of a data dtype (f64 for f64 data, else f32),
// handed to the typed kernels through void pointers.
class ComputeArray {
 public:
  ComputeArray(DType data, std::size_t count) : wide_(data == DType::f64) {
    if (wide_)
      d_.assign(count, 0.0);
    else
      f_.assign(count, 0.0f);
  }
  ComputeArray(DType data, std::span<const double> values) : ComputeArray(data, values.size()) {
    for (std::size_t i = 0; i < values.size(); ++i) set(i, values[i]);
  }
  void set(std::size_t i, double v) {
    if (wide_)
      d_[i] = v;
    else
      f_[i] = float(v);
  }
  double get(std::size_t i) const { return wide_ ? d_[i] : double(f_[i]); }
  void* data() { return wide_ ? static_cast<void*>(d_.data()) : static_cast<void*>(f_.data()); }
  const void* data() const {
    return wide_ ? static_cast<const void*>(d_.data()) : static_cast<const void*>(f_.data());
  }

 private:
  bool wide_;
  LineVector<float> f_;
  LineVector<double> d_;
};

// Calls Kernel<S, K>::run(job, begin, end) with the storage type S of
// `dtype` and the kit K (wide.hpp). Always inlined, so the typed kernel is
// compiled for the target of the build (or clone) that calls this.
template <template <class, class> class Kernel, class K, class Job>
NC_INLINE void dispatch(DType dtype, const Job& job, std::int64_t begin, std::int64_t end) {
  switch (dtype) {
    case DType::f64:
      Kernel<double, K>::run(job, begin, end);
      return;
    case DType::f32:
      Kernel<float, K>::run(job, begin, end);
      return;
    case DType::f16:
      Kernel<f16_t, K>::run(job, begin, end);
      return;
    case DType::bf16:
      Kernel<bf16_t, K>::run(job, begin, end);
      return;
  }
}

}  // namespace normcheck::cpu
