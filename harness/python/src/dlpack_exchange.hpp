// Tensors in and out of a Python backend through the DLPack protocol
// (__dlpack__ / __dlpack_device__), so that any framework's arrays -- torch,
// CuPy, JAX, NumPy -- on the host or on a CUDA device are exchanged the same
// way, bf16 included (DLPack has kDLBfloat; NumPy does not).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "normcheck/numeric/dtype.hpp"

namespace normcheck::python {

namespace py = pybind11;

// The package's NumPy dtypes of the harness's dtypes, one place: bf16 is
// uint16 (its bit patterns; NumPy has no bfloat16), the others themselves.
py::dtype numpy_dtype(numeric::DType t);
numeric::DType harness_dtype(const py::array& a);  // TypeError for any other dtype

// A copy of a harness buffer offered through DLPack: a consumer's
// from_dlpack gets a tensor that owns its memory (host, or device memory on
// a CUDA device), with the view's shape and strides (channels-last data
// stays channels-last), and nothing that points into the executor's guarded
// buffers once the call is over.
class DLPackExport {
 public:
  // `view`: a NumPy view of the buffer (uint16 means bf16 bit patterns, as
  // everywhere in the package); device_type: kDLCPU (1) or kDLCUDA (2).
  DLPackExport(const py::array& view, int device_type, int device_id);

  py::tuple dlpack_device() const;
  // A "dltensor" capsule; `stream` is accepted and not needed: device data
  // is complete (synchronized) before the capsule is returned.
  py::capsule dlpack(const py::object& stream) const;

 private:
  numeric::DType dtype_;
  std::vector<std::int64_t> shape_, strides_;            // strides in elements
  std::shared_ptr<const std::vector<std::byte>> bytes_;  // the view's span
  std::int64_t first_ = 0;                               // byte offset of element 0 within bytes_
  int device_type_, device_id_;
};

// The values of any object with __dlpack__ (on the host or a CUDA device,
// any strides; or a host tensor's capsule) as a new C-contiguous NumPy
// array of `want` (bf16 as uint16 bits), each value rounded once from the
// source dtype when they differ.
py::array dlpack_to_numpy(const py::object& source, numeric::DType want);

}  // namespace normcheck::python
