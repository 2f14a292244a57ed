// NC_HD marks the few helpers that run on both sides: compiled by nvcc they
// are __host__ __device__, compiled by the host C++ compiler (the plan
// library and its tests) they are plain inline functions.
#pragma once

#if defined(__CUDACC__)
#define NC_HD __host__ __device__
#else
#define NC_HD
#endif
