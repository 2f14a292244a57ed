// Deliberately broken backend plugins, one per way a backend can misbehave;
// each is this file built with NC_BROKEN set to one of the behaviours below
// (harness/tests/CMakeLists.txt). The harness must survive every one of
// them and report the right status for every check.
//
//   segfault     forward() dereferences a null pointer          -> crash
//   abort        forward() calls abort()                         -> crash
//   exit         forward() calls _exit(3)                        -> crash
//   hang         forward() never returns                         -> timeout
//   overrun      writes one element past the end of y            -> overrun
//   unwritten    leaves the last element of each output unwritten -> fail
//   writes_input writes into its input x                         -> error
//   errors       forward() returns NC_INTERNAL_ERROR              -> error
//   unsupported  supports() declines everything                 -> unsupported
//   wrong_abi    its table carries ABI version 999               -> refused at load (exit 2)
//   guard_pattern  writes 0xA5 (the old fixed guard byte) past y   -> overrun
//   far_overrun  writes one element 4 KiB + 64 bytes past y       -> overrun
//   late_write   a thread keeps writing y after forward returned -> overrun (late write)
//   throws       forward() throws a C++ exception                -> error, the backend's
//   silent       returns NC_OK and writes nothing                 -> fail, properties too
//   forward_only its table has no backward()                     -> backward checks unsupported
//   backward_crash  forward is fine (zeros), backward segfaults  -> forward checks measured,
//   backward crash load_crash   a static initializer segfaults when loaded     -> refused at load
//   (exit 2)
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <chrono>
#include <initializer_list>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "normcheck/backend.h"

#define NC_BEHAVIOUR(name) (std::strcmp(NC_BROKEN, name) == 0)

namespace {

std::size_t element_size(const DLTensor* t) {
  return std::size_t(t->dtype.bits) / 8;
}

std::size_t element_count(const DLTensor* t) {
  std::size_t n = 1;
  for (int i = 0; i < t->ndim; ++i) n *= std::size_t(t->shape[i]);
  return n;
}

// Writes zeros into the first `count - leave` elements of an output.
void fill(DLTensor* t, std::size_t leave = 0) {
  if (t == nullptr) return;
  const std::size_t n = element_count(t);
  std::memset(t->data, 0, (n - (leave < n ? leave : n)) * element_size(t));
}

void message(char* out, std::size_t size, const char* text) {
  if (size == 0) return;
  std::strncpy(out, text, size - 1);
  out[size - 1] = '\0';
}

nc_status supports(const nc_problem*, char* reason, std::size_t size) {
  if (NC_BEHAVIOUR("unsupported")) {
    message(reason, size, "this test backend supports nothing");
    return NC_UNSUPPORTED;
  }
  return NC_OK;
}

nc_status forward(const nc_problem*, const nc_forward_args* a, char* msg, std::size_t size) {
  if (NC_BEHAVIOUR("segfault")) {
    volatile int* null = nullptr;
    *null = 1;
  }
  if (NC_BEHAVIOUR("abort")) std::abort();
  if (NC_BEHAVIOUR("exit")) _exit(3);
  if (NC_BEHAVIOUR("hang")) {
    volatile unsigned spin = 0;
    while (true) spin = spin + 1u;
  }
  if (NC_BEHAVIOUR("throws")) throw std::runtime_error("deliberate exception");
  if (NC_BEHAVIOUR("silent")) return NC_OK;
  if (NC_BEHAVIOUR("errors")) {
    message(msg, size, "deliberate internal error");
    return NC_INTERNAL_ERROR;
  }
  const std::size_t leave = NC_BEHAVIOUR("unwritten") ? 1 : 0;
  for (DLTensor* t : {a->y, a->residual_out, a->saved_mean, a->saved_rstd}) fill(t, leave);
  if (NC_BEHAVIOUR("overrun")) {
    auto* bytes = static_cast<unsigned char*>(a->y->data);
    std::memset(bytes + element_count(a->y) * element_size(a->y), 0, element_size(a->y));
  }
  if (NC_BEHAVIOUR("guard_pattern")) {
    auto* bytes = static_cast<unsigned char*>(a->y->data);
    std::memset(bytes + element_count(a->y) * element_size(a->y), 0xA5, 16);
  }
  if (NC_BEHAVIOUR("far_overrun")) {
    auto* bytes = static_cast<unsigned char*>(a->y->data);
    std::memset(bytes + element_count(a->y) * element_size(a->y) + 4096 + 64, 0,
                element_size(a->y));
  }
  if (NC_BEHAVIOUR("late_write")) {
    // Returns while a thread goes on writing y's first element for a while:
    // the harness must notice once every call has returned.
    auto* first = static_cast<volatile unsigned char*>(a->y->data);
    std::thread([first] {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
      for (unsigned char v = 1; std::chrono::steady_clock::now() < until; ++v) {
        *first = v;
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }).detach();
  }
  if (NC_BEHAVIOUR("writes_input")) std::memset(a->x->data, 0, element_size(a->x));
  return NC_OK;
}

nc_status backward(const nc_problem*, const nc_backward_args* a, char*, std::size_t) {
  if (NC_BEHAVIOUR("silent")) return NC_OK;
  if (NC_BEHAVIOUR("backward_crash")) {
    volatile int* null = nullptr;
    *null = 1;
  }
  const std::size_t leave = NC_BEHAVIOUR("unwritten") ? 1 : 0;
  for (DLTensor* t : {a->dx, a->dresidual, a->dgamma, a->dbeta}) fill(t, leave);
  return NC_OK;
}

nc_status conv_bn_fold(const nc_problem*, const nc_conv_bn_fold_args* a, char*, std::size_t) {
  fill(a->folded_weight);
  fill(a->folded_bias);
  return NC_OK;
}

// Runs when the plugin is loaded, before anything is called.
struct LoadTimeCrash {
  LoadTimeCrash() {
    if (NC_BEHAVIOUR("load_crash"))
      std::raise(SIGSEGV);  // well defined, unlike a null write the optimizer may drop
  }
} const kLoadTimeCrash;

const nc_backend_v1 kTable = {
    NC_BEHAVIOUR("wrong_abi") ? 999u : NORMCHECK_BACKEND_ABI_VERSION,
    "broken_" NC_BROKEN,
    "0",
    supports,
    forward,
    NC_BEHAVIOUR("forward_only") ? nullptr : backward,
    conv_bn_fold,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const nc_backend_v1* normcheck_backend_v1(void) {
  return &kTable;
}
