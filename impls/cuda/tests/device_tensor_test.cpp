// Device tensors (kDLCUDA) through the ABI: the plugin uses them in place
// and gives the same bits as for host tensors (same kernels on aligned
// buffers); host and device tensors may be mixed in one call.
#include <cuda_runtime_api.h>
#include <catch2/catch.hpp>

#include <memory>

#include "device_checks.hpp"

using namespace normcheck::cuda::testing;

namespace {

// A device copy of a host tensor; download() brings it back.
class DeviceTensor {
 public:
  explicit DeviceTensor(const nt::HostTensor& host) : host_(host) {
    void* p = nullptr;
    REQUIRE(cudaMalloc(&p, host_.bytes.size()) == cudaSuccess);
    data_.reset(p);
    REQUIRE(cudaMemcpy(p, host_.bytes.data(), host_.bytes.size(), cudaMemcpyHostToDevice) ==
            cudaSuccess);
  }
  DLTensor* view() {
    dl_ = DLTensor{};
    dl_.data = data_.get();
    dl_.device = DLDevice{kDLCUDA, 0};
    dl_.ndim = int(host_.shape.size());
    dl_.dtype = normcheck::numeric::to_dlpack(host_.dtype);
    dl_.shape = host_.shape.data();
    return &dl_;
  }
  nt::HostTensor download() const {
    nt::HostTensor out = host_;
    REQUIRE(cudaMemcpy(out.bytes.data(), data_.get(), out.bytes.size(), cudaMemcpyDeviceToHost) ==
            cudaSuccess);
    return out;
  }

 private:
  struct Free {
    void operator()(void* p) const { cudaFree(p); }
  };
  nt::HostTensor host_;
  std::unique_ptr<void, Free> data_;
  DLTensor dl_{};
};

}  // namespace

TEST_CASE("layer norm on device tensors gives the host-tensor bits", "[cuda][device][tensors]") {
  const nc_problem p = nt::make_problem(NC_OP_LAYER_NORM, {8, 4096}, DType::bf16);
  auto in = nt::random_inputs(p, 21);
  const auto host = nt::run_forward(backend(), p, in);
  REQUIRE(host.status == NC_OK);

  DeviceTensor x(in.x), gamma(in.gamma), beta(in.beta);
  DeviceTensor y(host.y), mean(host.saved_mean), rstd(host.saved_rstd);
  nt::HostTensor y_on_host(host.y.dtype, host.y.shape);
  SECTION("every tensor on the device") {
    nc_forward_args a{};
    a.x = x.view();
    a.gamma = gamma.view();
    a.beta = beta.view();
    a.y = y.view();
    a.saved_mean = mean.view();
    a.saved_rstd = rstd.view();
    char message[512] = "";
    REQUIRE(backend().forward(&p, &a, message, sizeof message) == NC_OK);
    CHECK(nt::bit_identical(y.download(), host.y));
    CHECK(nt::bit_identical(mean.download(), host.saved_mean));
    CHECK(nt::bit_identical(rstd.download(), host.saved_rstd));
  }
  SECTION("x on the device, y on the host") {
    nc_forward_args a{};
    a.x = x.view();
    a.gamma = in.gamma.view();
    a.beta = in.beta.view();
    a.y = y_on_host.view();
    char message[512] = "";
    REQUIRE(backend().forward(&p, &a, message, sizeof message) == NC_OK);
    CHECK(nt::bit_identical(y_on_host, host.y));
  }
}

TEST_CASE("batch norm on device tensors updates device running statistics",
          "[cuda][device][tensors]") {
  nc_problem p = nt::make_problem(NC_OP_BATCH_NORM, {4, 16, 7, 7}, DType::f32);
  auto in = nt::random_inputs(p, 22);
  const auto host = nt::run_forward(backend(), p, in);
  REQUIRE(host.status == NC_OK);
  DeviceTensor x(in.x), gamma(in.gamma), beta(in.beta), rm(in.running_mean), rv(in.running_var),
      y(host.y);
  nc_forward_args a{};
  a.x = x.view();
  a.gamma = gamma.view();
  a.beta = beta.view();
  a.running_mean = rm.view();
  a.running_var = rv.view();
  a.y = y.view();
  char message[512] = "";
  REQUIRE(backend().forward(&p, &a, message, sizeof message) == NC_OK);
  CHECK(nt::bit_identical(y.download(), host.y));
  CHECK(nt::bit_identical(rm.download(), host.running_mean));
  CHECK(nt::bit_identical(rv.download(), host.running_var));
}

TEST_CASE("device tensors on a device that is not there are refused", "[cuda][device][tensors]") {
  const nc_problem p = nt::make_problem(NC_OP_LAYER_NORM, {2, 64}, DType::f32);
  auto in = nt::random_inputs(p, 23);
  nt::HostTensor y(DType::f32, {2, 64});
  DeviceTensor x(in.x);
  DLTensor* xv = x.view();
  int count = 0;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  xv->device.device_id = count;  // one past the last device
  nc_forward_args a{};
  a.x = xv;
  a.gamma = in.gamma.view();
  a.beta = in.beta.view();
  a.y = y.view();
  char message[512] = "";
  CHECK(backend().forward(&p, &a, message, sizeof message) != NC_OK);
}
