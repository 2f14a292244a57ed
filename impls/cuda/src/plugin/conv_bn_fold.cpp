#include "conv_bn_fold.hpp"

#include <cuda_runtime_api.h>

#include <vector>

#include "../common/cuda_check.hpp"
#include "device_memory.hpp"
#include "normcheck/support/calls.hpp"
#include "normcheck/support/fold.hpp"
#include "normcheck/support/status.hpp"
#include "staging.hpp"

namespace normcheck::cuda {

namespace {

// Host copies of the device-resident tensors of a fold.
class HostMirror {
 public:
  explicit HostMirror(const DeviceResidency& residency) : residency_(residency) {}

  const void* in(const void* p, std::size_t bytes) {
    if (!residency_.on_device(p)) return p;
    auto& copy = copies_.emplace_back(bytes);
    check_cuda(cudaMemcpy(copy.data(), p, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
    return copy.data();
  }

  void* out(void* p, std::size_t bytes) {
    if (!residency_.on_device(p)) return p;
    auto& copy = copies_.emplace_back(bytes);
    outputs_.push_back(Output{p, copy.data(), bytes});
    return copy.data();
  }

  void finish() {
    for (const Output& o : outputs_)
      check_cuda(cudaMemcpy(o.device, o.host, o.bytes, cudaMemcpyHostToDevice),
                 "cudaMemcpy to the device");
  }

 private:
  struct Output {
    void* device;
    const void* host;
    std::size_t bytes;
  };
  const DeviceResidency& residency_;
  std::vector<std::vector<unsigned char>> copies_;
  std::vector<Output> outputs_;
};

}  // namespace

void fold_conv_bn_on_host(const nc_problem* problem, const nc_conv_bn_fold_args* args) {
  if (args == nullptr) throw support::ArgumentError("args is NULL");
  DeviceResidency residency;
  nc_conv_bn_fold_args view = *args;
  view.weight = residency.admit(args->weight);
  view.bias = residency.admit(args->bias);
  view.gamma = residency.admit(args->gamma);
  view.beta = residency.admit(args->beta);
  view.running_mean = residency.admit(args->running_mean);
  view.running_var = residency.admit(args->running_var);
  view.folded_weight = residency.admit(args->folded_weight);
  view.folded_bias = residency.admit(args->folded_bias);
  support::FoldCall call = support::resolve_fold(problem, &view);

  CurrentDevice device(residency.device());
  HostMirror host(residency);
  const std::size_t oc = std::size_t(call.out_channels);
  const std::size_t weights = oc * std::size_t(call.weights_per_channel);
  const std::size_t data = numeric::dtype_size(call.data);
  const std::size_t param = numeric::dtype_size(call.param);
  const std::size_t stats = numeric::dtype_size(call.stats);
  call.weight = host.in(call.weight, weights * data);
  call.bias = host.in(call.bias, oc * data);
  call.gamma = host.in(call.gamma, oc * param);
  call.beta = host.in(call.beta, oc * param);
  call.running_mean = host.in(call.running_mean, oc * stats);
  call.running_var = host.in(call.running_var, oc * stats);
  call.folded_weight = host.out(call.folded_weight, weights * data);
  call.folded_bias = host.out(call.folded_bias, oc * data);
  support::fold_conv_bn<double>(call);
  host.finish();
}

}  // namespace normcheck::cuda
