#include "normcheck/mpi/worker_protocol.hpp"

#include <cstring>

namespace normcheck::mpi::wire {

std::string encode_doubles(std::span<const double> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

bool decode_doubles(std::string_view payload, std::vector<double>& values) {
  if (payload.size() % sizeof(double) != 0) return false;
  values.resize(payload.size() / sizeof(double));
  if (!payload.empty()) std::memcpy(values.data(), payload.data(), payload.size());
  return true;
}

std::string encode_i32(std::int32_t v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

std::int32_t decode_i32(std::string_view payload, std::int32_t fallback) {
  if (payload.size() < sizeof(std::int32_t)) return fallback;
  std::int32_t v = 0;
  std::memcpy(&v, payload.data(), sizeof v);
  return v;
}

}  // namespace normcheck::mpi::wire
