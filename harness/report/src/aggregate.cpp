#include "aggregate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace normcheck::report::detail {

std::map<RowKey, Row> rows_by_backend_op_check_dtype(const std::vector<Record>& records) {
  std::map<RowKey, Row> rows;
  for (const auto& r : records) {
    Row& row = rows[{r.backend, r.op, r.check, r.dtype}];
    ++row.counts.by_status[int(r.status)];
    ++row.counts.total;
    if (!r.gating && r.status != Status::pass && r.status != Status::unsupported)
      ++row.counts.non_gating_failures;
    if (!std::isnan(r.tolerance))
      row.tolerance =
          std::isnan(row.tolerance) ? r.tolerance : std::max(row.tolerance, r.tolerance);
    if (r.measured() && (row.worst == nullptr || r.bound_ratio > row.worst_ratio)) {
      row.worst_ratio = r.bound_ratio;
      row.worst = &r;
    }
  }
  return rows;
}

std::vector<const Record*> problems(const std::vector<Record>& records) {
  std::vector<const Record*> out;
  for (const auto& r : records)
    if (r.status != Status::pass && r.status != Status::unsupported) out.push_back(&r);
  std::stable_sort(out.begin(), out.end(), [](const Record* a, const Record* b) {
    if (a->gating != b->gating) return a->gating;
    const double ra = std::isnan(a->bound_ratio) ? -1.0 : a->bound_ratio;
    const double rb = std::isnan(b->bound_ratio) ? -1.0 : b->bound_ratio;
    return ra > rb;
  });
  return out;
}

std::vector<const Record*> by_bound_ratio(const std::vector<Record>& records) {
  std::vector<const Record*> out;
  for (const auto& r : records)
    if (r.measured()) out.push_back(&r);
  std::stable_sort(out.begin(), out.end(), [](const Record* a, const Record* b) {
    return a->bound_ratio > b->bound_ratio;
  });
  return out;
}

std::string format_ratio(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return "inf";
  if (v == 0.0) return "0";
  return v >= 100.0 ? fmt::format("{:.3g}", v) : fmt::format("{:.3f}", v);
}

std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.9g}", v);
}

std::string format_index(const std::vector<std::int64_t>& index) {
  std::string s = "[";
  for (std::size_t i = 0; i < index.size(); ++i) s += (i ? ", " : "") + std::to_string(index[i]);
  return s + "]";
}

std::string markup_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out.push_back(c);
    }
  }
  return out;
}

}  // namespace normcheck::report::detail
