#include "engine.hpp"

namespace normcheck::onednn {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

void run(const dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args) {
  dnnl::stream stream(cpu_engine());
  primitive.execute(stream, args);
  stream.wait();
}

dnnl::memory wrap(const dnnl::memory::desc& desc, void* data) {
  return dnnl::memory(desc, cpu_engine(), data);
}

dnnl::memory wrap_input(const dnnl::memory::desc& desc, const void* data) {
  return wrap(desc, const_cast<void*>(data));
}

}  // namespace normcheck::onednn
