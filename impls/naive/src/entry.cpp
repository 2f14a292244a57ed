// The exported entry point of libnormcheck_backend_naive.so.
#include "normcheck/naive/backend.hpp"
#include "normcheck/support/backend_table.hpp"

NC_BACKEND_EXPORT const nc_backend_v1* normcheck_backend_v1(void) {
  return &normcheck::naive::backend_table();
}
