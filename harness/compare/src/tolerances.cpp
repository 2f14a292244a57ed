#include "normcheck/compare/tolerances.hpp"

#include <fmt/format.h>
#include <fnmatch.h>

#include <toml++/toml.h>
#include <cmath>
#include <functional>
#include <set>
#include <sstream>

#include "normcheck/compare/check_table.hpp"
#include "normcheck/model/op_traits.hpp"
#include "normcheck/model/input_file.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::compare {

namespace {

using model::InputError;

// Reports a problem at a node of the file: "FILE:LINE: message".
[[noreturn]] void fail_at(const std::string& source, const toml::node& node,
                          const std::string& message) {
  const auto line = node.source().begin.line;
  if (line == 0) throw InputError(fmt::format("{}: {}", source, message));
  throw InputError(fmt::format("{}:{}: {}", source, line, message));
}

class TableReader {
 public:
  TableReader(const std::string& source, const toml::table& table, std::string where)
      : source_(source), table_(table), where_(std::move(where)) {}

  // Rejects every key not in `allowed`: a typo must not silently loosen or
  // ignore a tolerance.
  void only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, node] : table_) {
      bool known = false;
      for (auto a : allowed) known = known || key.str() == a;
      if (!known) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail_at(source_, node,
                fmt::format("unknown key '{}' in {} (allowed: {})", key.str(), where_, list));
      }
    }
  }

  std::optional<double> limit(std::string_view key, double max) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    double v = 0.0;
    if (const auto* i = node->as_integer())
      v = double(i->get());
    else if (const auto* f = node->as_floating_point())
      v = f->get();
    else
      fail_at(source_, *node, fmt::format("{}.{} must be a number", where_, key));
    if (v < 0.0)
      fail_at(source_, *node, fmt::format("{}.{} is {}; a limit must be >= 0", where_, key, v));
    if (!(v <= max))
      fail_at(source_, *node,
              fmt::format("{}.{} is {}; a limit must be finite and at most {:g} (a kernel that "
                          "far off is broken: list it in [[expected_fail]] with its reason)",
                          where_, key, v, max));
    return v;
  }

  std::optional<bool> flag(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* b = node->as_boolean()) return b->get();
    fail_at(source_, *node, fmt::format("{}.{} must be true or false", where_, key));
  }

  std::string text(std::string_view key, std::string fallback = {}) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return fallback;
    if (const auto* s = node->as_string()) return s->get();
    fail_at(source_, *node, fmt::format("{}.{} must be a string", where_, key));
  }

 private:
  const std::string& source_;
  const toml::table& table_;
  std::string where_;
};

const toml::table& table_at(const std::string& source, const toml::node& node,
                            std::string_view what) {
  const auto* t = node.as_table();
  if (t == nullptr) fail_at(source, node, fmt::format("{} must be a table", what));
  return *t;
}

void read_array_of_tables(const std::string& source, const toml::table& root, std::string_view key,
                          const std::function<void(const TableReader&, const toml::table&)>& each) {
  const toml::node* node = root.get(key);
  if (node == nullptr) return;
  const auto* array = node->as_array();
  if (array == nullptr)
    fail_at(source, *node, fmt::format("'{}' must be an array of tables ([[{}]])", key, key));
  for (const auto& element : *array) {
    const auto& t = table_at(source, element, fmt::format("each [[{}]]", key));
    each(TableReader(source, t, fmt::format("[[{}]]", key)), t);
  }
}

bool is_wildcard(const std::string& s) {
  return s.empty() || s == "*";
}

std::string number(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // TOML float, not integer
  return s;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// A rule's op, check or dtype must name something that exists (or be a
// glob matching something): a typo would otherwise silently match nothing.
// `canonical` maps an accepted alias (an op's short name) to the name the
// records carry.
std::string known_or_fail(const std::string& source, const toml::table& table,
                          std::string_view where, std::string_view key, std::string value,
                          const std::vector<std::string_view>& valid,
                          const std::function<std::string(std::string_view)>& canonical = {}) {
  if (is_wildcard(value)) return value;
  if (canonical) {
    if (std::string c = canonical(value); !c.empty()) return c;
  }
  for (auto v : valid)
    if (glob_match(value, v)) return value;
  std::string list;
  for (auto v : valid) list += (list.empty() ? "" : ", ") + std::string(v);
  const toml::node* node = table.get(key);
  fail_at(source, node != nullptr ? *node : static_cast<const toml::node&>(table),
          fmt::format("{}.{} = \"{}\" matches no {} (valid: {})", where, key, value, key, list));
}

std::string known_op(const std::string& source, const toml::table& table, std::string_view where,
                     std::string value) {
  std::vector<std::string_view> valid;
  for (const auto& o : model::op_table()) valid.push_back(o.long_name);
  return known_or_fail(source, table, where, "op", std::move(value), valid,
                       [](std::string_view name) {
                         const auto op = model::parse_op(name);
                         return op ? std::string(model::op_name(*op)) : std::string();
                       });
}

std::string known_check(const std::string& source, const toml::table& table,
                        std::string_view where, std::string value) {
  return known_or_fail(source, table, where, "check", std::move(value), check_names());
}

std::string known_dtype(const std::string& source, const toml::table& table,
                        std::string_view where, std::string value) {
  std::vector<std::string_view> valid;
  for (auto t : {numeric::DType::f64, numeric::DType::f32, numeric::DType::f16,
                 numeric::DType::bf16})
    valid.push_back(numeric::dtype_name(t));
  return known_or_fail(source, table, where, "dtype", std::move(value), valid);
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  return fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

Tolerances Tolerances::builtin() {
  return Tolerances{};
}

Tolerances Tolerances::parse(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}: {}", source, e.source().begin.line, e.description()));
  }
  Tolerances t;
  const TableReader top(source, root, "the top level");
  top.only({"schema_version", "default", "backend", "expected_fail", "limit"});
  const toml::node* version = root.get("schema_version");
  if (version == nullptr) throw InputError(fmt::format("{}: missing schema_version", source));
  if (!version->is_integer() || version->as_integer()->get() != kToleranceSchemaVersion)
    fail_at(source, *version,
            fmt::format("schema_version must be {} (this normcheck reads version {})",
                        kToleranceSchemaVersion, kToleranceSchemaVersion));

  if (const toml::node* node = root.get("default")) {
    const TableReader d(source, table_at(source, *node, "[default]"), "[default]");
    d.only({"max_bound_ratio", "max_ulp", "require_batch_invariance", "require_determinism",
            "require_nan_placement"});
    if (auto v = d.limit("max_bound_ratio", kMaxLimitBoundRatio))
      t.default_limit.max_bound_ratio = *v;
    t.default_limit.max_ulp = d.limit("max_ulp", kMaxLimitUlp);
    t.default_requirements.batch_invariance = d.flag("require_batch_invariance").value_or(false);
    t.default_requirements.determinism = d.flag("require_determinism").value_or(false);
    t.default_requirements.nan_placement = d.flag("require_nan_placement").value_or(false);
  }
  if (const toml::node* node = root.get("backend")) {
    for (const auto& [name, table] : table_at(source, *node, "[backend]")) {
      const std::string where = fmt::format("[backend.{}]", name.str());
      const TableReader b(source, table_at(source, table, where), where);
      b.only({"max_bound_ratio", "max_ulp", "require_batch_invariance", "require_determinism",
              "require_nan_placement", "allow_unsupported"});
      BackendTolerances bt;
      bt.max_bound_ratio = b.limit("max_bound_ratio", kMaxLimitBoundRatio);
      bt.max_ulp = b.limit("max_ulp", kMaxLimitUlp);
      bt.require_batch_invariance = b.flag("require_batch_invariance");
      bt.require_determinism = b.flag("require_determinism");
      bt.require_nan_placement = b.flag("require_nan_placement");
      bt.allow_unsupported = b.flag("allow_unsupported");
      t.backends.emplace(std::string(name.str()), bt);
    }
  }
  read_array_of_tables(
      source, root, "expected_fail", [&](const TableReader& r, const toml::table& table) {
        r.only({"backend", "case", "check", "reason"});
        ExpectedFailure e{r.text("backend"), r.text("case"),
                          known_check(source, table, "[[expected_fail]]", r.text("check", "*")),
                          r.text("reason")};
        if (e.backend.empty() || e.case_pattern.empty() || e.reason.empty())
          fail_at(
              source, table,
              "[[expected_fail]] needs backend, case and reason (a known failure must say why)");
        t.expected_failures.push_back(std::move(e));
      });
  read_array_of_tables(source, root, "limit", [&](const TableReader& r, const toml::table& table) {
    r.only({"backend", "op", "check", "dtype", "max_bound_ratio", "max_ulp", "note"});
    LimitRule rule{r.text("backend", "*"),
                   known_op(source, table, "[[limit]]", r.text("op", "*")),
                   known_check(source, table, "[[limit]]", r.text("check", "*")),
                   known_dtype(source, table, "[[limit]]", r.text("dtype", "*")),
                   r.limit("max_bound_ratio", kMaxLimitBoundRatio),
                   r.limit("max_ulp", kMaxLimitUlp),
                   r.text("note")};
    if (!rule.max_bound_ratio && !rule.max_ulp)
      fail_at(source, table, "[[limit]] sets neither max_bound_ratio nor max_ulp");
    t.limits.push_back(std::move(rule));
  });
  return t;
}

Tolerances Tolerances::load(const std::filesystem::path& path) {
  return parse(model::read_text_file(path, "tolerance file"), path.string());
}

Limit Tolerances::limit(std::string_view backend, std::string_view op, std::string_view check,
                        std::string_view dtype) const {
  Limit l = default_limit;
  if (const auto it = backends.find(std::string(backend)); it != backends.end()) {
    if (it->second.max_bound_ratio) l.max_bound_ratio = *it->second.max_bound_ratio;
    if (it->second.max_ulp) l.max_ulp = it->second.max_ulp;
  }
  // Each field comes from the most specific rule that sets it.
  int ratio_rank = -1, ulp_rank = -1;
  for (const auto& r : limits) {
    const std::pair<const std::string*, std::string_view> fields[] = {
        {&r.backend, backend}, {&r.op, op}, {&r.check, check}, {&r.dtype, dtype}};
    int rank = 0;
    bool matches = true;
    for (const auto& [pattern, value] : fields) {
      if (is_wildcard(*pattern)) continue;
      matches = matches && glob_match(*pattern, value);
      ++rank;
    }
    if (!matches) continue;
    if (r.max_bound_ratio && rank >= ratio_rank) {
      l.max_bound_ratio = *r.max_bound_ratio;
      ratio_rank = rank;
    }
    if (r.max_ulp && rank >= ulp_rank) {
      l.max_ulp = r.max_ulp;
      ulp_rank = rank;
    }
  }
  return l;
}

Requirements Tolerances::requirements(std::string_view backend) const {
  Requirements r = default_requirements;
  if (const auto it = backends.find(std::string(backend)); it != backends.end()) {
    r.batch_invariance = it->second.require_batch_invariance.value_or(r.batch_invariance);
    r.determinism = it->second.require_determinism.value_or(r.determinism);
    r.nan_placement = it->second.require_nan_placement.value_or(r.nan_placement);
  }
  return r;
}

bool Tolerances::allows_unsupported(std::string_view backend) const {
  const auto it = backends.find(std::string(backend));
  return it != backends.end() && it->second.allow_unsupported.value_or(false);
}

const ExpectedFailure* Tolerances::expected_failure(std::string_view backend,
                                                    std::string_view case_descriptor,
                                                    std::string_view check) const {
  for (const auto& e : expected_failures)
    if (glob_match(e.backend, backend) && glob_match(e.case_pattern, case_descriptor) &&
        glob_match(e.check, check))
      return &e;
  return nullptr;
}

std::string Tolerances::to_toml(std::string_view header) const {
  std::string s;
  std::istringstream lines{std::string(header)};
  for (std::string line; std::getline(lines, line);) s += line.empty() ? "#\n" : "# " + line + "\n";
  s += fmt::format("\nschema_version = {}\n\n[default]\n", kToleranceSchemaVersion);
  s += fmt::format("max_bound_ratio = {}\n", number(default_limit.max_bound_ratio));
  if (default_limit.max_ulp) s += fmt::format("max_ulp = {}\n", number(*default_limit.max_ulp));
  s += fmt::format("require_batch_invariance = {}\n", default_requirements.batch_invariance);
  s += fmt::format("require_determinism = {}\n", default_requirements.determinism);
  s += fmt::format("require_nan_placement = {}\n", default_requirements.nan_placement);
  for (const auto& [name, b] : backends) {
    s += fmt::format("\n[backend.{}]\n", name);
    if (b.max_bound_ratio) s += fmt::format("max_bound_ratio = {}\n", number(*b.max_bound_ratio));
    if (b.max_ulp) s += fmt::format("max_ulp = {}\n", number(*b.max_ulp));
    if (b.require_batch_invariance)
      s += fmt::format("require_batch_invariance = {}\n", *b.require_batch_invariance);
    if (b.require_determinism)
      s += fmt::format("require_determinism = {}\n", *b.require_determinism);
    if (b.require_nan_placement)
      s += fmt::format("require_nan_placement = {}\n", *b.require_nan_placement);
    if (b.allow_unsupported) s += fmt::format("allow_unsupported = {}\n", *b.allow_unsupported);
  }
  for (const auto& e : expected_failures) {
    s += fmt::format("\n[[expected_fail]]\nbackend = {}\ncase = {}\n", quoted(e.backend),
                     quoted(e.case_pattern));
    if (e.check != "*") s += fmt::format("check = {}\n", quoted(e.check));
    s += fmt::format("reason = {}\n", quoted(e.reason));
  }
  for (const auto& r : limits) {
    s += "\n[[limit]]\n";
    const std::pair<const char*, const std::string*> fields[] = {
        {"backend", &r.backend}, {"op", &r.op}, {"check", &r.check}, {"dtype", &r.dtype}};
    for (const auto& [key, value] : fields)
      if (!is_wildcard(*value)) s += fmt::format("{} = {}\n", key, quoted(*value));
    if (r.max_bound_ratio) s += fmt::format("max_bound_ratio = {}\n", number(*r.max_bound_ratio));
    if (r.max_ulp) s += fmt::format("max_ulp = {}\n", number(*r.max_ulp));
    if (!r.note.empty()) s += fmt::format("note = {}\n", quoted(r.note));
  }
  return s;
}

}  // namespace normcheck::compare
