// Grouping of records shared by the human-readable reports.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "normcheck/report/results.hpp"

namespace normcheck::report::detail {

struct Row {
  StatusCounts counts;
  double worst_ratio = 0.0;       // largest measured bound ratio (0 when none)
  const Record* worst = nullptr;  // its record
  double tolerance =
      std::numeric_limits<double>::quiet_NaN();  // the largest tolerance applied (NaN: none)
};

// backend, op, check, dtype.
using RowKey = std::tuple<std::string, std::string, std::string, std::string>;

std::map<RowKey, Row> rows_by_backend_op_check_dtype(const std::vector<Record>& records);

// Records that are not pass/unsupported, gating ones first, then by bound ratio.
std::vector<const Record*> problems(const std::vector<Record>& records);

// Measured records by descending bound ratio.
std::vector<const Record*> by_bound_ratio(const std::vector<Record>& records);

// Number formatting shared by the reports: "-" for not measured, "inf".
std::string format_ratio(double v);
std::string format_value(double v);
std::string format_index(const std::vector<std::int64_t>& index);

// Text for XML and HTML: &, <, >, quotes escaped; control characters that
// XML 1.0 forbids even escaped are dropped.
std::string markup_escape(std::string_view s);

}  // namespace normcheck::report::detail
