#include "bench_tensor.hpp"

#include <cstring>
#include <new>

#include "normcheck/numeric/fast_float16.hpp"

namespace normcheck::bench {

BenchTensor::BenchTensor(numeric::DType dtype, std::vector<std::int64_t> shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  const std::size_t bytes = std::size_t(count()) * numeric::dtype_size(dtype);
  const std::size_t rounded = (bytes + 63) / 64 * 64;
  data_.reset(std::aligned_alloc(64, rounded));
  if (!data_) throw std::bad_alloc();
  std::memset(data_.get(), 0, rounded);
  dl_.data = data_.get();
  dl_.device = DLDevice{kDLCPU, 0};
  dl_.ndim = int(shape_.size());
  dl_.dtype = numeric::to_dlpack(dtype);
  dl_.shape = shape_.data();
  dl_.strides = nullptr;
  dl_.byte_offset = 0;
}

std::int64_t BenchTensor::count() const {
  std::int64_t n = 1;
  for (auto d : shape_) n *= d;
  return n;
}

void BenchTensor::fill_uniform(model::Rng& rng, double lo, double hi) {
  auto* bytes = static_cast<unsigned char*>(data_.get());
  for (std::int64_t i = 0; i < count(); ++i) {
    const double v = rng.uniform(lo, hi);
    // Benchmark data needs no exact rounding; the fast conversions keep
    // filling 30M-element tensors quick.
    switch (dtype_) {
      case numeric::DType::f16: {
        const auto b = numeric::fast::f32_to_f16(float(v));
        std::memcpy(bytes + 2 * i, &b, 2);
        break;
      }
      case numeric::DType::bf16: {
        const auto b = numeric::fast::f32_to_bf16(float(v));
        std::memcpy(bytes + 2 * i, &b, 2);
        break;
      }
      default:
        numeric::store(dtype_, bytes, std::size_t(i), v);
    }
  }
}

}  // namespace normcheck::bench
