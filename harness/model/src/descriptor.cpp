// The compact problem descriptor, in the spirit of oneDNN benchdnn's:
//   OP:DATA[:PARAM[:STATS]]:SHAPE[:KEY=VALUE]...
// e.g. ln:bf16:f32:4x128x768:eps=1e-5:dist=offset. Grammar in harness/README.md.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "normcheck/model/op_traits.hpp"
#include "normcheck/model/excerpt.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::model {

namespace {

struct DistName { Dist dist; std::string_view name; };
constexpr std::array<DistName, 9> kDists{{{Dist::normal, "normal"},
                                          {Dist::uniform, "uniform"},
                                          {Dist::offset, "offset"},
                                          {Dist::tiny_var, "tiny"},
                                          {Dist::constant, "const"},
                                          {Dist::heavy, "heavy"},
                                          {Dist::f16_overflow, "f16ovf"},
                                          {Dist::subnormal, "subnormal"},
                                          {Dist::nonfinite, "nonfinite"}}};

struct ParamDistName { ParamDist dist; std::string_view name; };
constexpr std::array<ParamDistName, 3> kParamDists{{{ParamDist::normal, "normal"},
                                                    {ParamDist::ones, "ones"},
                                                    {ParamDist::signed_zeros, "signed_zeros"}}};

template <typename Table>
std::string names_of(const Table& table) {
  std::string list;
  for (const auto& entry : table) list.append(list.empty() ? "" : ", ").append(entry.name);
  return list;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::int64_t parse_int(std::string_view field, std::string_view text) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw ProblemError(std::string(field), fmt::format("'{}' is not an integer", excerpt(text)));
  return v;
}

// An integer stored as int: out of range is an error, not a truncation
// (steps=4294967297 read as 1 before).
int parse_small_int(std::string_view field, std::string_view text) {
  const std::int64_t v = parse_int(field, text);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    throw ProblemError(std::string(field), fmt::format("'{}' is out of range", excerpt(text)));
  return int(v);
}

double parse_double(std::string_view field, std::string_view text) {
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw ProblemError(std::string(field), fmt::format("'{}' is not a number", excerpt(text)));
  return v;
}

bool parse_bool(std::string_view field, std::string_view text) {
  if (text == "1" || text == "true") return true;
  if (text == "0" || text == "false") return false;
  throw ProblemError(std::string(field), fmt::format("'{}' is not 0 or 1", excerpt(text)));
}

std::vector<std::int64_t> parse_dims(std::string_view field, std::string_view text, char sep) {
  std::vector<std::int64_t> dims;
  for (auto part : split(text, sep)) dims.push_back(parse_int(field, part));
  return dims;
}

// Shortest text that reads back to the same double, with a compact exponent
// ("1e-5", not "1e-05").
std::string format_double(double v) {
  std::array<char, 64> buf{};
  const auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  std::string s(buf.data(), ptr);
  const auto e = s.find('e');
  if (e == std::string::npos) return s;
  std::string_view mantissa = std::string_view(s).substr(0, e);
  std::string_view exponent = std::string_view(s).substr(e + 1);
  const bool negative = !exponent.empty() && exponent[0] == '-';
  if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+')) exponent.remove_prefix(1);
  while (exponent.size() > 1 && exponent[0] == '0') exponent.remove_prefix(1);
  std::string out(mantissa);
  out += 'e';
  if (negative) out += '-';
  out += exponent;
  return out;
}

std::string join_dims(const std::vector<std::int64_t>& dims, char sep) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) s.push_back(sep);
    s.append(std::to_string(dims[i]));
  }
  return s;
}

DType default_stats(DType data) {
  return (data == DType::f16 || data == DType::bf16) ? DType::f32 : data;
}

Dist parse_dist(std::string_view field, std::string_view text) {
  for (const auto& d : kDists) if (d.name == text) return d.dist;
  throw ProblemError(std::string(field),
                     fmt::format("unknown distribution '{}' (valid: {})", excerpt(text), names_of(kDists)));
}

DType parse_dtype_field(std::string_view field, std::string_view text) {
  if (auto t = numeric::parse_dtype(text)) return *t;
  throw ProblemError(std::string(field), fmt::format("unknown dtype '{}' (f64, f32, f16, bf16)", excerpt(text)));
}

// Which ops each key applies to, in the order of the grammar table in
// harness/README.md: a key that does not apply is rejected, never silently
// dropped, and every "unknown key" message lists the valid keys from here.
constexpr unsigned bit(Op op) { return 1u << unsigned(op); }
constexpr unsigned kAllOps = bit(Op::batch_norm) | bit(Op::layer_norm) | bit(Op::rms_norm) |
                             bit(Op::group_norm) | bit(Op::instance_norm) | bit(Op::conv_bn);
constexpr unsigned kLnRms = bit(Op::layer_norm) | bit(Op::rms_norm);
constexpr unsigned kChannelOps = kAllOps & ~kLnRms;
constexpr unsigned kRunningStatOps = bit(Op::batch_norm) | bit(Op::instance_norm);

struct KeyRule { std::string_view key; unsigned ops; };
constexpr std::array<KeyRule, 21> kKeys{{{"layout", kChannelOps},
                                        {"axis", kLnRms},
                                        {"g", bit(Op::group_norm)},
                                        {"mode", kRunningStatOps | bit(Op::conv_bn)},
                                        {"affine", kAllOps},
                                        {"res", kLnRms},
                                        {"track", kRunningStatOps},
                                        {"mom", kRunningStatOps},
                                        {"rs", kRunningStatOps},
                                        {"var", kRunningStatOps},
                                        {"steps", kRunningStatOps},
                                        {"shards", bit(Op::batch_norm)},
                                        {"oc", bit(Op::conv_bn)},
                                        {"k", bit(Op::conv_bn)},
                                        {"stride", bit(Op::conv_bn)},
                                        {"pad", bit(Op::conv_bn)},
                                        {"eps", kAllOps},
                                        {"dist", kAllOps},
                                        {"gdist", kAllOps},
                                        {"dydist", kAllOps},
                                        {"seed", kAllOps}}};

std::string valid_keys(Op op) {
  std::string list;
  for (const auto& k : kKeys)
    if (k.ops & bit(op)) list.append(list.empty() ? "" : ", ").append(k.key);
  return list;
}

std::string ops_of(unsigned ops) {
  std::string list;
  for (const auto& o : op_table())
    if (ops & bit(o.op)) list.append(list.empty() ? "" : ", ").append(o.short_name);
  return list;
}

// Rejects a key that is unknown or does not apply to the op, naming the keys that do.
void check_key(Op op, std::string_view key) {
  const auto rule = std::find_if(kKeys.begin(), kKeys.end(), [&](const KeyRule& k) { return k.key == key; });
  if (rule == kKeys.end())
    throw ProblemError(excerpt(key, 40), fmt::format("unknown key (valid keys for {}: {})", op_short_name(op), valid_keys(op)));
  if (!(rule->ops & bit(op)))
    throw ProblemError(std::string(key), fmt::format("applies to {} only (valid keys for {}: {})", ops_of(rule->ops),
                                                     op_short_name(op), valid_keys(op)));
}

void apply_key(Problem& p, std::string_view key, std::string_view value) {
  if (key == "layout") {
    if (value == "nchw") p.layout = Layout::nchw;
    else if (value == "nhwc") p.layout = Layout::nhwc;
    else throw ProblemError("layout", fmt::format("'{}' is not nchw or nhwc", excerpt(value)));
  } else if (key == "axis") {
    p.norm_axis = parse_small_int(key, value);
  } else if (key == "g") {
    p.groups = parse_int(key, value);
  } else if (key == "mode") {
    if (value == "train") p.mode = Mode::train;
    else if (value == "eval") p.mode = Mode::eval;
    else if (value == "global") p.mode = Mode::global_stats;
    else throw ProblemError("mode", fmt::format("'{}' is not train, eval or global", excerpt(value)));
  } else if (key == "affine") {
    if (value == "sb") p.scale = p.shift = true;
    else if (value == "s") { p.scale = true; p.shift = false; }
    else if (value == "b") { p.scale = false; p.shift = true; }
    else if (value == "none") p.scale = p.shift = false;
    else throw ProblemError("affine", fmt::format("'{}' is not sb, s, b or none", excerpt(value)));
  } else if (key == "res") {
    p.residual = parse_bool(key, value);
  } else if (key == "track") {
    p.track_running_stats = parse_bool(key, value);
  } else if (key == "mom") {
    p.momentum = parse_double(key, value);
  } else if (key == "rs") {
    if (value == "torch") p.momentum_convention = MomentumConvention::torch;
    else if (value == "paddle") p.momentum_convention = MomentumConvention::paddle;
    else throw ProblemError("rs", fmt::format("'{}' is not torch or paddle", excerpt(value)));
  } else if (key == "var") {
    if (value == "unbiased") p.running_var_estimator = VarianceEstimator::unbiased;
    else if (value == "biased") p.running_var_estimator = VarianceEstimator::biased;
    else throw ProblemError("var", fmt::format("'{}' is not unbiased or biased", excerpt(value)));
  } else if (key == "steps") {
    p.steps = parse_small_int(key, value);
  } else if (key == "shards") {
    p.shards = parse_dims(key, value, '+');
  } else if (key == "oc") {
    p.conv.out_channels = parse_int(key, value);
  } else if (key == "k") {
    const auto k = parse_dims(key, value, 'x');
    if (k.size() != 2) throw ProblemError("k", fmt::format("'{}' is not KHxKW", excerpt(value)));
    p.conv.kernel_h = k[0];
    p.conv.kernel_w = k[1];
  } else if (key == "stride") {
    p.conv.stride = parse_int(key, value);
  } else if (key == "pad") {
    p.conv.pad = parse_int(key, value);
  } else if (key == "eps") {
    p.eps = parse_double(key, value);
  } else if (key == "dist") {
    p.dist = parse_dist(key, value);
  } else if (key == "dydist") {
    p.dy_dist = parse_dist(key, value);
  } else if (key == "gdist") {
    bool found = false;
    for (const auto& d : kParamDists) if (d.name == value) { p.gamma_dist = d.dist; found = true; }
    if (!found)
      throw ProblemError("gdist", fmt::format("unknown gamma distribution '{}' (valid: {})", excerpt(value),
                                              names_of(kParamDists)));
  } else if (key == "seed") {
    const auto s = parse_int(key, value);
    if (s < 0) throw ProblemError("seed", "must be >= 0");
    p.seed = std::uint64_t(s);
  }
}

}  // namespace

std::string_view dist_name(Dist d) {
  for (const auto& n : kDists) if (n.dist == d) return n.name;
  return "?";
}
std::string_view param_dist_name(ParamDist d) {
  for (const auto& n : kParamDists) if (n.dist == d) return n.name;
  return "?";
}
std::string_view mode_name(Mode m) {
  return m == Mode::train ? "train" : m == Mode::eval ? "eval" : "global";
}

Problem parse_descriptor(std::string_view text) {
  const auto fields = split(text, ':');
  if (fields.size() < 3)
    throw ProblemError("descriptor", fmt::format("'{}' is not OP:DTYPE[:PARAM[:STATS]]:SHAPE[:KEY=VALUE...]", excerpt(text)));
  Problem p;
  const auto op = parse_op(fields[0]);
  if (!op) throw ProblemError("op", fmt::format("unknown op '{}' ({})", excerpt(fields[0]), op_names_list()));
  p.op = *op;
  p.track_running_stats = p.op == Op::batch_norm;
  if (p.op == Op::conv_bn) p.mode = Mode::eval;

  // Dtypes run until the first field that starts with a digit (the shape).
  std::size_t i = 1;
  std::vector<DType> dtypes;
  while (i < fields.size() && !fields[i].empty() && !(fields[i][0] >= '0' && fields[i][0] <= '9') &&
         fields[i].find('=') == std::string_view::npos) {
    static constexpr std::array<std::string_view, 3> names{"dtype", "param dtype", "stats dtype"};
    if (dtypes.size() == 3) throw ProblemError("dtype", "at most three dtypes (data, param, stats)");
    dtypes.push_back(parse_dtype_field(names[dtypes.size()], fields[i]));
    ++i;
  }
  if (dtypes.empty()) throw ProblemError("dtype", "missing after the op");
  p.data = dtypes[0];
  p.param = dtypes.size() > 1 ? dtypes[1] : p.data;
  p.stats = dtypes.size() > 2 ? dtypes[2] : default_stats(p.data);
  if (i >= fields.size()) throw ProblemError("shape", "missing");
  p.shape = parse_dims("shape", fields[i], 'x');
  ++i;
  // A repeated key is a typo or a merge gone wrong: neither value can be trusted.
  std::vector<std::string_view> seen;
  for (; i < fields.size(); ++i) {
    const auto eq = fields[i].find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw ProblemError(excerpt(fields[i], 40), "expected KEY=VALUE");
    const std::string_view key = fields[i].substr(0, eq);
    check_key(p.op, key);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      throw ProblemError(std::string(key), "given twice");
    seen.push_back(key);
    apply_key(p, key, fields[i].substr(eq + 1));
  }
  validate(p);
  // One problem, one representation: the last dim named is the default
  // (to_descriptor omits it, and parse(to_descriptor(p)) == p must hold).
  if (p.norm_axis == int(p.shape.size()) - 1) p.norm_axis = -1;
  return p;
}

std::string to_descriptor(const Problem& p) {
  std::string s = fmt::format("{}:{}:{}", op_short_name(p.op), numeric::dtype_name(p.data),
                              numeric::dtype_name(p.param));
  if (p.stats != default_stats(p.data)) s += fmt::format(":{}", numeric::dtype_name(p.stats));
  s.append(":").append(join_dims(p.shape, 'x'));
  if (p.layout == Layout::nhwc) s += ":layout=nhwc";
  if (p.norm_axis >= 0 && p.norm_axis != int(p.shape.size()) - 1) s += fmt::format(":axis={}", p.norm_axis);
  if (p.op == Op::group_norm) s += fmt::format(":g={}", p.groups);
  if (p.mode != (p.op == Op::conv_bn ? Mode::eval : Mode::train)) s += fmt::format(":mode={}", mode_name(p.mode));
  if (!(p.scale && p.shift)) s += fmt::format(":affine={}", p.scale ? "s" : p.shift ? "b" : "none");
  if (p.residual) s += ":res=1";
  if (p.track_running_stats != (p.op == Op::batch_norm)) s += fmt::format(":track={}", p.track_running_stats ? 1 : 0);
  if (p.momentum != 0.1) s.append(":mom=").append(format_double(p.momentum));
  if (p.momentum_convention == MomentumConvention::paddle) s += ":rs=paddle";
  if (p.running_var_estimator == VarianceEstimator::biased) s += ":var=biased";
  if (p.steps != 1) s += fmt::format(":steps={}", p.steps);
  if (!p.shards.empty()) s.append(":shards=").append(join_dims(p.shards, '+'));
  if (p.op == Op::conv_bn) {
    s += fmt::format(":oc={}:k={}x{}", p.conv.out_channels, p.conv.kernel_h, p.conv.kernel_w);
    if (p.conv.stride != 1) s += fmt::format(":stride={}", p.conv.stride);
    if (p.conv.pad != 0) s += fmt::format(":pad={}", p.conv.pad);
  }
  s.append(":eps=").append(format_double(p.eps));
  s += fmt::format(":dist={}", dist_name(p.dist));
  if (p.gamma_dist != ParamDist::normal) s += fmt::format(":gdist={}", param_dist_name(p.gamma_dist));
  if (p.dy_dist != Dist::normal) s += fmt::format(":dydist={}", dist_name(p.dy_dist));
  if (p.seed != 1) s += fmt::format(":seed={}", p.seed);
  return s;
}

std::string describe(const Problem& p) {
  std::string s;
  auto line = [&s](std::string_view k, const std::string& v) { s += fmt::format("  {:<22} {}\n", k, v); };
  s += to_descriptor(p) + "\n";
  line("op", std::string(op_name(p.op)));
  line("shape", join_dims(p.shape, 'x'));
  if (p.op == Op::layer_norm || p.op == Op::rms_norm) {
    line("normalized axes", fmt::format("{}..{}", p.resolved_norm_axis(), p.shape.size() - 1));
  } else {
    line("layout", p.layout == Layout::nchw ? "nchw (channels first)" : "nhwc (channels last)");
    line("channels", std::to_string(p.channels()));
  }
  if (p.op == Op::group_norm) line("groups", std::to_string(p.groups));
  line("dtypes", fmt::format("data {}, param {}, stats {}", numeric::dtype_name(p.data),
                             numeric::dtype_name(p.param), numeric::dtype_name(p.stats)));
  line("elements", std::to_string(p.element_count()));
  line("statistic groups", fmt::format("{} of {} elements", p.stat_group_count(), p.stat_group_size()));
  line("eps", format_double(p.eps));
  line("mode", std::string(mode_name(p.mode)));
  line("affine", fmt::format("scale {}, shift {}", p.scale ? "yes" : "no", p.shift ? "yes" : "no"));
  if (p.op == Op::layer_norm || p.op == Op::rms_norm) line("fused residual", p.residual ? "yes" : "no");
  if (p.has_running_stats()) {
    line("running stats", fmt::format("tracked; momentum {} ({} convention), {} variance",
                                      format_double(p.momentum),
                                      p.momentum_convention == MomentumConvention::torch ? "torch" : "paddle",
                                      p.running_var_estimator == VarianceEstimator::unbiased ? "unbiased" : "biased"));
    line("training steps", std::to_string(p.steps));
  }
  if (!p.shards.empty()) line("SyncBN shards", join_dims(p.shards, '+'));
  if (p.op == Op::conv_bn)
    line("convolution", fmt::format("{} out channels, {}x{} kernel, stride {}, pad {}", p.conv.out_channels,
                                    p.conv.kernel_h, p.conv.kernel_w, p.conv.stride, p.conv.pad));
  line("input distribution", fmt::format("x {}, dy {}, gamma {}", dist_name(p.dist), dist_name(p.dy_dist),
                                         param_dist_name(p.gamma_dist)));
  line("seed", std::to_string(p.seed));
  return s;
}

}  // namespace normcheck::model
