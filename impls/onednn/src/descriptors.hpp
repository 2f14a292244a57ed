// How a problem's geometry maps onto oneDNN memory descriptors.
//
// Batch norm: oneDNN's dims are logical (N, C, spatial...) and the layout is
// a format tag (ncw/nchw/ncdhw or nwc/nhwc/ndhwc), so the ABI's memory-order
// shape is permuted back to logical order. Layer norm: oneDNN normalizes over
// the last dim only, so shape[axis:] is collapsed into one dim (exact: those
// dims are contiguous) and shape[:axis] into rows.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "normcheck/support/geometry.hpp"

namespace normcheck::onednn {

using numeric::DType;

// oneDNN's name for a dtype; nullopt when oneDNN has none (f64).
std::optional<dnnl::memory::data_type> dnnl_type(DType t);

// x, y, dy, dx of a batch norm (rank 2 to 5) in the data dtype. Throws
// support::Unsupported for a dtype or rank oneDNN does not take.
dnnl::memory::desc batch_norm_data_desc(const support::Geometry& g);

// x, y, dy, dx of a layer norm as (rows, cols) in the data dtype.
dnnl::memory::desc layer_norm_data_desc(const support::Geometry& g);

// A dense 1-D f32 vector: scale, shift, mean, variance.
dnnl::memory::desc f32_vector(std::int64_t n);

// Why oneDNN cannot take the problem's dtypes at all, or nullopt: no f64
// primitives, and scale/shift/statistics are f32 only (f64 ones would be
// rounded by the adapter, so they are declined).
std::optional<std::string> dtype_unsupported(const support::Geometry& g);

// "oneDNN 2.6 has no CPU <primitive> for f32 channels-last data".
std::string no_implementation(const char* primitive, const support::Geometry& g);

}  // namespace normcheck::onednn
