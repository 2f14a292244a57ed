#include "descriptors.hpp"

#include <string>

#include "normcheck/support/status.hpp"

namespace normcheck::onednn {

namespace {

using tag = dnnl::memory::format_tag;

dnnl::memory::data_type required_type(DType t, const char* op) {
  const auto dt = dnnl_type(t);
  if (!dt)
    throw support::Unsupported(std::string("oneDNN has no ") + std::string(numeric::dtype_name(t)) +
                               " " + op + " (f32 and bf16 on CPU)");
  return *dt;
}

tag channel_tag(std::size_t rank, nc_layout layout) {
  const bool last = layout == NC_LAYOUT_NHWC;
  switch (rank) {
    case 2:
      return tag::nc;  // no spatial dims: both layouts are (N, C)
    case 3:
      return last ? tag::nwc : tag::ncw;
    case 4:
      return last ? tag::nhwc : tag::nchw;
    case 5:
      return last ? tag::ndhwc : tag::ncdhw;
    default:
      throw support::Unsupported("oneDNN batch normalization takes rank 2 to 5, not rank " +
                                 std::to_string(rank));
  }
}

}  // namespace

std::optional<dnnl::memory::data_type> dnnl_type(DType t) {
  switch (t) {
    case DType::f32:
      return dnnl::memory::data_type::f32;
    case DType::bf16:
      return dnnl::memory::data_type::bf16;
    case DType::f16:
      return dnnl::memory::data_type::f16;
    case DType::f64:
      return std::nullopt;
  }
  return std::nullopt;
}

dnnl::memory::desc batch_norm_data_desc(const support::Geometry& g) {
  const auto& shape = g.data_shape;
  const tag t = channel_tag(shape.size(), g.layout);
  const bool last = g.layout == NC_LAYOUT_NHWC;
  dnnl::memory::dims logical{g.batch, g.channels};
  if (last)
    logical.insert(logical.end(), shape.begin() + 1, shape.end() - 1);
  else
    logical.insert(logical.end(), shape.begin() + 2, shape.end());
  return dnnl::memory::desc(logical, required_type(g.data, "batch normalization"), t);
}

dnnl::memory::desc layer_norm_data_desc(const support::Geometry& g) {
  return dnnl::memory::desc({g.rows, g.cols}, required_type(g.data, "layer normalization"),
                            tag::ab);
}

dnnl::memory::desc f32_vector(std::int64_t n) {
  return dnnl::memory::desc({n}, dnnl::memory::data_type::f32, tag::a);
}

std::optional<std::string> dtype_unsupported(const support::Geometry& g) {
  if (!dnnl_type(g.data))
    return "oneDNN has no " + std::string(numeric::dtype_name(g.data)) +
           " normalization (f32 and bf16 on CPU)";
  if (g.param == DType::f64)
    return std::string("oneDNN takes scale and shift in f32; f64 gamma/beta would be rounded");
  if (g.stats == DType::f64)
    return std::string("oneDNN keeps statistics in f32; f64 statistics would be rounded");
  return std::nullopt;
}

std::string no_implementation(const char* primitive, const support::Geometry& g) {
  std::string data(numeric::dtype_name(g.data));
  if (g.channel_op()) data += g.layout == NC_LAYOUT_NHWC ? " channels-last" : " channels-first";
  return "oneDNN " + std::to_string(DNNL_VERSION_MAJOR) + "." + std::to_string(DNNL_VERSION_MINOR) +
         " has no CPU " + primitive + " for " + data + " data";
}

}  // namespace normcheck::onednn
