#pragma once
// How the elements of a normalization problem map to statistic groups and to
// affine parameters. Everything is row-major; see reference/README.md.

#include <cstdint>
#include <vector>

namespace normcheck::reference {

enum class NormOp { batch_norm, instance_norm, group_norm, layer_norm, rms_norm };

const char* to_string(NormOp op);

struct NormGeometry {
  NormOp op = NormOp::layer_norm;
  // bn/in/gn: (N, C, spatial...) or, with channels_last, (N, spatial..., C);
  // rank 2..5. ln/rms: any rank >= 1.
  std::vector<std::int64_t> shape{};
  bool channels_last = false;  // bn/in/gn only
  int norm_axis = 1;           // ln/rms: dims [norm_axis, rank) are normalized
  std::int64_t groups = 1;     // gn: number of groups, divides C

  // Throws std::invalid_argument naming the offending field.
  void validate() const;

  std::int64_t num_elements() const;
  std::int64_t num_groups() const;  // statistic groups (saved mean/rstd length)
  std::int64_t num_params() const;  // length of gamma/beta (and dgamma/dbeta)
  std::int64_t group_size() const;  // elements per statistic group
  std::int64_t group_of(std::int64_t flat) const;
  std::int64_t param_of(std::int64_t flat) const;

  // bn/in/gn only: batch N, channels C, prod(spatial) S.
  std::int64_t batch() const;
  std::int64_t channels() const;
  std::int64_t spatial() const;
};

// The canonical 3-D view every op reduces to: element (n, c, s) lives at
// channels_last ? (n*S + s)*C + c : (n*C + c)*S + s. ln/rms are viewed as
// (rows, row_length, 1), so "channel" == position within the row == param.
struct CanonicalDims {
  std::int64_t n = 1, c = 1, s = 1;
  bool channels_last = false;
  std::int64_t channels_per_group = 1;  // gn: C / G; bn/in: 1; ln/rms: C
  NormOp op = NormOp::layer_norm;

  std::int64_t flat(std::int64_t in, std::int64_t ic, std::int64_t is) const {
    return channels_last ? (in * s + is) * c + ic : (in * c + ic) * s + is;
  }
  std::int64_t group(std::int64_t in, std::int64_t ic) const;
  std::int64_t num_groups() const;
};

CanonicalDims canonical_dims(const NormGeometry& g);

// Statistic group `group` is the box n in [n0, n1), c in [c0, c1), all s.
struct GroupBox {
  std::int64_t n0, n1, c0, c1;
};
GroupBox group_box(const CanonicalDims& d, std::int64_t group);

// Calls f(flat, param) for every element of a statistic group, in memory
// order within each (n, c) run. Header-inline: it is the inner loop of every
// evaluation path.
template <class F>
void for_each_in_group(const CanonicalDims& d, std::int64_t group, F&& f) {
  const GroupBox b = group_box(d, group);
  for (std::int64_t in = b.n0; in < b.n1; ++in) {
    if (d.channels_last) {
      for (std::int64_t is = 0; is < d.s; ++is) {
        const std::int64_t base = (in * d.s + is) * d.c;
        for (std::int64_t ic = b.c0; ic < b.c1; ++ic) f(base + ic, ic);
      }
    } else {
      for (std::int64_t ic = b.c0; ic < b.c1; ++ic) {
        const std::int64_t base = (in * d.c + ic) * d.s;
        for (std::int64_t is = 0; is < d.s; ++is) f(base + is, ic);
      }
    }
  }
}

// Calls f(flat, group) for every element whose affine parameter is `param`.
template <class F>
void for_each_with_param(const CanonicalDims& d, std::int64_t param, F&& f) {
  for (std::int64_t in = 0; in < d.n; ++in) {
    const std::int64_t grp = d.group(in, param);
    for (std::int64_t is = 0; is < d.s; ++is) f(d.flat(in, param, is), grp);
  }
}

}  // namespace normcheck::reference
