#include "dlpack_exchange.hpp"

#include <dlpack/dlpack.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cuda_runtime.hpp"

namespace normcheck::python {
namespace {

using numeric::DType;

// The byte range [lo, hi) relative to element 0 that a strided tensor
// touches; empty tensors touch nothing.
struct Span {
  std::int64_t lo = 0, hi = 0;
};
Span span_of(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& strides,
             std::int64_t item) {
  Span s{0, item};
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return {0, 0};
    const std::int64_t reach = (shape[d] - 1) * strides[d] * item;
    (reach < 0 ? s.lo : s.hi) += reach;
  }
  return s;
}

bool on_cuda(int device_type) {
  return device_type == kDLCUDA;
}
// Memory the CUDA runtime copies out (device, pinned or managed: the host may
// only read it after the producer's stream work, which the copy waits for).
bool cuda_memory(int device_type) {
  return device_type == kDLCUDA || device_type == kDLCUDAHost || device_type == kDLCUDAManaged;
}

// What a consumer owns after from_dlpack: the DLManagedTensor and the
// storage it points to (the shared host copy, or a device allocation).
struct Holder {
  DLManagedTensor managed{};
  std::vector<std::int64_t> shape, strides;
  std::shared_ptr<const std::vector<std::byte>> host;
  void* device = nullptr;
  int device_id = 0;
};

void delete_holder(DLManagedTensor* m) {
  auto* h = static_cast<Holder*>(m->manager_ctx);
  if (h->device != nullptr) CudaRuntime::get().free(h->device_id, h->device);
  delete h;  // NOLINT: ownership passed through the C protocol
}

// The capsule's destructor runs when nobody consumed it (a consumer renames
// it "used_dltensor" and calls the deleter itself).
void capsule_destructor(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, "dltensor") == 0) return;
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (m != nullptr && m->deleter != nullptr) m->deleter(m);
}

std::string dlpack_dtype_name(DLDataType t) {
  const char* kinds[] = {"int", "uint", "float", "opaque", "bfloat", "complex"};
  const std::string kind = t.code < 6 ? kinds[t.code] : "code " + std::to_string(t.code);
  return kind + std::to_string(t.bits) + (t.lanes != 1 ? "x" + std::to_string(t.lanes) : "");
}

// The consumer's side of a capsule: marked used at once, the producer's
// deleter called when done.
class Consumed {
 public:
  explicit Consumed(const py::object& capsule) {
    if (PyCapsule_IsValid(capsule.ptr(), "dltensor") == 0)
      throw py::type_error("__dlpack__ did not return an unused \"dltensor\" capsule");
    managed_ = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
    PyCapsule_SetName(capsule.ptr(), "used_dltensor");
  }
  ~Consumed() {
    if (managed_ != nullptr && managed_->deleter != nullptr) managed_->deleter(managed_);
  }
  Consumed(const Consumed&) = delete;
  Consumed& operator=(const Consumed&) = delete;
  const DLTensor& tensor() const { return managed_->dl_tensor; }

 private:
  DLManagedTensor* managed_ = nullptr;
};

// Copies src (strided, elements of `from`) into dst (C-contiguous, `to`):
// the innermost dimension by memcpy when it is contiguous and the dtypes
// agree, else value by value through numeric::store's single rounding.
void copy_strided(const std::byte* src, DType from, const std::vector<std::int64_t>& shape,
                  const std::vector<std::int64_t>& strides, std::byte* dst, DType to) {
  const auto in_item = std::int64_t(numeric::dtype_size(from));
  const auto out_item = std::int64_t(numeric::dtype_size(to));
  const std::size_t rank = shape.size();
  const std::int64_t inner = rank == 0 ? 1 : shape.back();
  const std::int64_t inner_stride = rank == 0 ? 1 : strides.back();
  std::int64_t rows = 1;
  for (std::size_t d = 0; d + 1 < rank; ++d) rows *= shape[d];
  if (inner == 0 || rows == 0) return;
  std::vector<std::int64_t> index(rank > 0 ? rank - 1 : 0, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t offset = 0;
    for (std::size_t d = 0; d + 1 < rank; ++d) offset += index[d] * strides[d];
    const std::byte* row = src + offset * in_item;
    std::byte* out = dst + r * inner * out_item;
    if (from == to && inner_stride == 1) {
      std::memcpy(out, row, std::size_t(inner * in_item));
    } else {
      for (std::int64_t i = 0; i < inner; ++i) {
        const std::byte* v = row + i * inner_stride * in_item;
        if (from == to)
          std::memcpy(out + i * out_item, v, std::size_t(in_item));
        else
          numeric::store(to, out, std::size_t(i), numeric::load(from, v, 0));
      }
    }
    for (std::size_t d = index.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::f64:
      return py::dtype::of<double>();
    case DType::f32:
      return py::dtype::of<float>();
    case DType::f16:
      return py::dtype("float16");
    case DType::bf16:
      break;
  }
  return py::dtype::of<std::uint16_t>();  // bf16 bit patterns
}

// By kind and size, not by name: this runs for every tensor of every call.
DType harness_dtype(const py::array& a) {
  const char kind = a.dtype().kind();
  const auto size = a.itemsize();
  if (kind == 'u' && size == 2) return DType::bf16;  // the package's bf16 convention
  if (kind == 'f' && size == 8) return DType::f64;
  if (kind == 'f' && size == 4) return DType::f32;
  if (kind == 'f' && size == 2) return DType::f16;
  throw py::type_error("no DLPack export for a NumPy array of " + std::string(py::str(a.dtype())));
}

DLPackExport::DLPackExport(const py::array& view, int device_type, int device_id)
    : dtype_(harness_dtype(view)), device_type_(device_type), device_id_(device_id) {
  if (device_type != kDLCPU && !on_cuda(device_type))
    throw py::value_error("tensors can be exported to the host or a CUDA device only");
  const auto item = std::int64_t(numeric::dtype_size(dtype_));
  for (py::ssize_t d = 0; d < view.ndim(); ++d) {
    if (view.strides(d) % item != 0)
      throw py::value_error("a view whose strides are not whole elements");
    shape_.push_back(view.shape(d));
    strides_.push_back(view.strides(d) / item);
  }
  const Span s = span_of(shape_, strides_, item);
  const auto* base = static_cast<const std::byte*>(view.data());
  bytes_ = std::make_shared<const std::vector<std::byte>>(base + s.lo, base + s.hi);
  first_ = -s.lo;
}

py::tuple DLPackExport::dlpack_device() const {
  return py::make_tuple(device_type_, device_id_);
}

py::capsule DLPackExport::dlpack(const py::object& /*stream*/) const {
  auto h = std::make_unique<Holder>();
  h->shape = shape_;
  h->strides = strides_;
  h->device_id = device_id_;
  std::byte* data = nullptr;
  if (on_cuda(device_type_)) {
    const auto& cuda = CudaRuntime::get();
    h->device = cuda.allocate(device_id_, bytes_->size());
    try {
      cuda.to_device(device_id_, h->device, bytes_->data(), bytes_->size());
    } catch (...) {
      cuda.free(device_id_, h->device);
      throw;
    }
    data = static_cast<std::byte*>(h->device) + first_;
  } else {
    h->host = bytes_;
    // The consumer may write into its tensor: it is its own copy in
    // spirit, shared only with other consumers of this same export.
    data = const_cast<std::byte*>(bytes_->data()) + first_;  // NOLINT
  }
  DLTensor& t = h->managed.dl_tensor;
  t.data = data;
  t.device = DLDevice{static_cast<DLDeviceType>(device_type_), device_id_};
  t.ndim = int(h->shape.size());
  t.dtype = numeric::to_dlpack(dtype_);
  t.shape = h->shape.data();
  t.strides = h->strides.data();
  t.byte_offset = 0;
  h->managed.manager_ctx = h.get();
  h->managed.deleter = delete_holder;
  DLManagedTensor* managed = &h->managed;
  py::capsule capsule(managed, "dltensor", capsule_destructor);
  h.release();  // owned by the capsule, then by its consumer
  return capsule;
}

namespace {

// The capsule of a DLPack object; a capsule given directly (a host tensor's,
// which needs no stream handshake) is taken as it is.
py::object capsule_of(const py::object& source) {
  if (PyCapsule_CheckExact(source.ptr()) != 0) return source;
  if (!py::hasattr(source, "__dlpack_device__"))
    throw py::type_error("not a DLPack tensor (no __dlpack_device__)");
  const auto device = source.attr("__dlpack_device__")().cast<py::tuple>();
  // A CUDA producer is asked for the legacy default stream (1): the copy
  // below runs there, so the producer makes it wait for its own work.
  return cuda_memory(device[0].cast<int>()) ? source.attr("__dlpack__")(py::arg("stream") = 1)
                                            : source.attr("__dlpack__")();
}

}  // namespace

py::array dlpack_to_numpy(const py::object& source, DType want) {
  const Consumed consumed(capsule_of(source));
  const DLTensor& t = consumed.tensor();
  const auto from = numeric::from_dlpack(t.dtype);
  if (!from)
    throw py::type_error("a tensor of " + dlpack_dtype_name(t.dtype) +
                         " where a floating-point tensor (f64, f32, f16, bf16) was expected");
  std::vector<std::int64_t> shape(t.shape, t.shape + t.ndim), strides(std::size_t(t.ndim));
  std::int64_t contiguous = 1;
  for (int d = t.ndim - 1; d >= 0; --d) {
    strides[std::size_t(d)] = t.strides != nullptr ? t.strides[d] : contiguous;
    contiguous *= shape[std::size_t(d)];
  }
  const auto item = std::int64_t(numeric::dtype_size(*from));
  const auto* element0 = static_cast<const std::byte*>(t.data) + t.byte_offset;
  std::vector<std::byte> staged;  // device data copied to the host
  if (cuda_memory(t.device.device_type)) {
    const Span s = span_of(shape, strides, item);
    staged.resize(std::size_t(s.hi - s.lo));
    if (!staged.empty())
      CudaRuntime::get().to_host(t.device.device_id, staged.data(), element0 + s.lo, staged.size());
    element0 = staged.data() - s.lo;
  } else if (t.device.device_type != kDLCPU) {
    throw py::value_error("a tensor on DLPack device type " +
                          std::to_string(int(t.device.device_type)) +
                          ": only host and CUDA tensors can be read");
  }
  py::array out(numpy_dtype(want), std::vector<py::ssize_t>(shape.begin(), shape.end()));
  copy_strided(element0, *from, shape, strides, static_cast<std::byte*>(out.mutable_data()), want);
  return out;
}

}  // namespace normcheck::python
