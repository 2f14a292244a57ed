// A 64-byte aligned host tensor for benchmarking, its pages touched at
// allocation so no timed call pays for first-touch page faults.
#pragma once

#include <dlpack/dlpack.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "normcheck/model/rng.hpp"
#include "normcheck/numeric/dtype.hpp"

namespace normcheck::bench {

class BenchTensor {
 public:
  BenchTensor() = default;
  BenchTensor(numeric::DType dtype, std::vector<std::int64_t> shape);

  // Uniform values on [lo, hi) from the portable generator.
  void fill_uniform(model::Rng& rng, double lo, double hi);

  DLTensor* get() { return data_ ? &dl_ : nullptr; }
  std::int64_t count() const;

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  numeric::DType dtype_ = numeric::DType::f32;
  std::vector<std::int64_t> shape_;
  std::unique_ptr<void, Free> data_;
  DLTensor dl_{};
};

}  // namespace normcheck::bench
