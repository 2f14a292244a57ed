/*
 * normcheck backend ABI, version 1.
 *
 * A shared library is a normcheck backend when it exports
 *
 *     const nc_backend_v1* normcheck_backend_v1(void);
 *
 * returning a table that lives as long as the library is loaded. Everything
 * crossing this boundary is plain C: tensors are DLPack DLTensors, errors are
 * a status code plus a message written into a caller-owned buffer. No C++
 * type, exception or allocation crosses it, so a backend can be written in C,
 * C++, Rust or CUDA host code. See impls/README.md.
 */
#ifndef NORMCHECK_BACKEND_H
#define NORMCHECK_BACKEND_H

#include <dlpack/dlpack.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any change to the layout or meaning of the structs below. The
 * harness refuses a backend whose table carries another version. */
#define NORMCHECK_BACKEND_ABI_VERSION 1

#define NC_MAX_DIMS 8

typedef enum nc_status {
  NC_OK = 0,
  NC_UNSUPPORTED = 1,      /* the backend declines this problem (say why) */
  NC_INVALID_ARGUMENT = 2, /* the call itself is malformed */
  NC_INTERNAL_ERROR = 3    /* anything else that went wrong inside */
} nc_status;

typedef enum nc_op {
  NC_OP_BATCH_NORM = 1,
  NC_OP_LAYER_NORM = 2,
  NC_OP_RMS_NORM = 3,
  NC_OP_GROUP_NORM = 4,
  NC_OP_INSTANCE_NORM = 5,
  NC_OP_CONV_BN_FOLD = 6 /* only conv_bn_fold() is called for this op */
} nc_op;

/* Channels first (NCHW, NCW, NCDHW) or channels last (NHWC, NWC, NDHWC).
 * shape[] below is always given in the memory order of the layout. */
typedef enum nc_layout { NC_LAYOUT_NCHW = 0, NC_LAYOUT_NHWC = 1 } nc_layout;

typedef enum nc_mode {
  NC_MODE_TRAIN = 0,       /* statistics from the batch */
  NC_MODE_EVAL = 1,        /* statistics from running_mean / running_var */
  NC_MODE_GLOBAL_STATS = 2 /* training step normalized with the running
                              statistics (Paddle's use_global_stats): the
                              statistics are constants in the backward */
} nc_mode;

/* torch:  new = (1 - m) * old + m * batch
 * paddle: new = m * old + (1 - m) * batch */
typedef enum nc_momentum_convention {
  NC_MOMENTUM_TORCH = 0,
  NC_MOMENTUM_PADDLE = 1
} nc_momentum_convention;

/* Estimator of the batch variance that enters the running variance (the
 * normalization itself always uses the biased variance). */
typedef enum nc_variance_estimator {
  NC_VARIANCE_UNBIASED = 0, /* times n / (n - 1) */
  NC_VARIANCE_BIASED = 1
} nc_variance_estimator;

enum {
  NC_FLAG_SCALE = 1u << 0,               /* gamma present */
  NC_FLAG_SHIFT = 1u << 1,               /* beta present */
  NC_FLAG_TRACK_RUNNING_STATS = 1u << 2, /* update running stats in training */
  NC_FLAG_RESIDUAL = 1u << 3             /* layer/rms norm of x + residual */
};

typedef struct nc_problem {
  uint32_t struct_size; /* sizeof(nc_problem) as the harness compiled it */
  nc_op op;
  nc_layout layout;
  int32_t ndim;
  int64_t shape[NC_MAX_DIMS]; /* memory order; for NC_OP_CONV_BN_FOLD the
                                 conv input (N, C, H, W) */
  int32_t norm_axis;          /* layer/rms norm: first normalized dim */
  int64_t groups;             /* group norm */
  DLDataType data_dtype;      /* x, residual, y, dy, dx */
  DLDataType param_dtype;     /* gamma, beta, dgamma, dbeta */
  DLDataType stats_dtype;     /* saved mean/rstd, running mean/var */
  double eps;
  double momentum;
  nc_momentum_convention momentum_convention;
  nc_variance_estimator running_var_estimator;
  nc_mode mode;
  uint32_t flags; /* NC_FLAG_* */
} nc_problem;

/* Collectives for SyncBatchNorm, supplied by the launcher (MPI, NCCL-style,
 * or a test). NULL when the call is not distributed. A backend needs no MPI
 * header: it sums its partial statistics through allreduce_sum_f64. */
typedef struct nc_collectives {
  void* context;
  int32_t rank;
  int32_t size;
  /* In-place sum over all ranks of count doubles; returns 0 on success. */
  int (*allreduce_sum_f64)(void* context, double* data, int64_t count);
} nc_collectives;

/* All tensors are host (kDLCPU) tensors unless a backend documents that it
 * also accepts device tensors. Optional tensors are NULL when absent. */
typedef struct nc_forward_args {
  const DLTensor* x;
  const DLTensor* residual; /* NC_FLAG_RESIDUAL */
  const DLTensor* gamma;    /* NC_FLAG_SCALE */
  const DLTensor* beta;     /* NC_FLAG_SHIFT */
  DLTensor* running_mean;   /* read in eval/global stats, updated in train */
  DLTensor* running_var;    /* when NC_FLAG_TRACK_RUNNING_STATS */
  DLTensor* y;
  DLTensor* residual_out; /* x + residual, the input of the normalization */
  DLTensor* saved_mean;   /* per statistic group; NULL for rms_norm */
  DLTensor* saved_rstd;   /* 1/sqrt(var + eps); rms_norm: 1/sqrt(ms + eps) */
  const nc_collectives* collectives;
} nc_forward_args;

typedef struct nc_backward_args {
  const DLTensor* dy;
  const DLTensor* x; /* the normalized input (residual_out when fused) */
  const DLTensor* gamma;
  const DLTensor* saved_mean; /* what forward saved (train) */
  const DLTensor* saved_rstd;
  const DLTensor* running_mean; /* eval / global stats */
  const DLTensor* running_var;
  DLTensor* dx;
  DLTensor* dresidual; /* equals dx for the fused residual; may be NULL */
  DLTensor* dgamma;    /* NULL when not wanted */
  DLTensor* dbeta;
  const nc_collectives* collectives;
} nc_backward_args;

/* Conv-BN folding for deployment: W' = W * g / sqrt(rv + eps),
 * b' = (b - rm) * g / sqrt(rv + eps) + beta. */
typedef struct nc_conv_bn_fold_args {
  const DLTensor* weight; /* (OC, IC, KH, KW) */
  const DLTensor* bias;   /* (OC) or NULL */
  const DLTensor* gamma;  /* (OC) */
  const DLTensor* beta;   /* (OC) */
  const DLTensor* running_mean;
  const DLTensor* running_var;
  double eps; /* always equal to the problem's eps (the harness sets both from
                 one value); kept here because ABI v1 is frozen */
  DLTensor* folded_weight;
  DLTensor* folded_bias;
} nc_conv_bn_fold_args;

typedef struct nc_backend_v1 {
  uint32_t abi_version; /* NORMCHECK_BACKEND_ABI_VERSION */
  const char* name;
  const char* version;
  /* NC_OK when the backend implements this problem; otherwise
   * NC_UNSUPPORTED with the reason written to reason. */
  nc_status (*supports)(const nc_problem* problem, char* reason, size_t reason_size);
  nc_status (*forward)(const nc_problem* problem, const nc_forward_args* args,
                       char* message, size_t message_size);
  nc_status (*backward)(const nc_problem* problem, const nc_backward_args* args,
                        char* message, size_t message_size);
  nc_status (*conv_bn_fold)(const nc_problem* problem, const nc_conv_bn_fold_args* args,
                            char* message, size_t message_size);
} nc_backend_v1;

typedef const nc_backend_v1* (*nc_backend_entry_v1)(void);

#define NORMCHECK_BACKEND_ENTRY_V1 "normcheck_backend_v1"

#ifdef __cplusplus
}
#endif

#endif /* NORMCHECK_BACKEND_H */
