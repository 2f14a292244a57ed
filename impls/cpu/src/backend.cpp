#include "normcheck/cpu/backend.hpp"

#include "kernels.hpp"
#include "normcheck/support/backend_table.hpp"
#include "normcheck/support/fold.hpp"

namespace normcheck::cpu {

namespace {

struct Kernels {
  static constexpr const char* name = "cpu";
  static constexpr const char* version = "0.1.0";
  static void forward(const support::ForwardCall& c) {
    if (c.geo.row_op())
      forward_rows(c);
    else
      forward_channels(c);
  }
  static void backward(const support::BackwardCall& c) {
    if (c.geo.row_op())
      backward_rows(c);
    else
      backward_channels(c);
  }
  // Folding touches each weight once; double arithmetic rounds each output once.
  static void conv_bn_fold(const support::FoldCall& c) { support::fold_conv_bn<double>(c); }
};

}  // namespace

const nc_backend_v1& backend_table() {
  return support::BackendTable<Kernels>::table;
}

}  // namespace normcheck::cpu
