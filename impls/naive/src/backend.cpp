#include "normcheck/naive/backend.hpp"
#include "naive_norm.hpp"
#include "normcheck/support/backend_table.hpp"

namespace normcheck::naive {

namespace {

struct Kernels {
  static constexpr const char* name = "naive";
  static constexpr const char* version = "0.1.0";
  static void forward(const support::ForwardCall& c) { naive::forward(c); }
  static void backward(const support::BackwardCall& c) { naive::backward(c); }
  static void conv_bn_fold(const support::FoldCall& c) { naive::conv_bn_fold(c); }
};

}  // namespace

const nc_backend_v1& backend_table() {
  return support::BackendTable<Kernels>::table;
}

}  // namespace normcheck::naive
