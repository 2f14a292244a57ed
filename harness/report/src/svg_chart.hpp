// Minimal inline-SVG charts for report.html: log-scale axes, histograms and
// scatter plots drawn as plain SVG elements (no script, no network).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aggregate.hpp"

namespace normcheck::report::detail {

// The colour of the i-th backend (a fixed palette that reads on white).
std::string series_color(std::size_t i);

struct Series {
  std::string name;
  std::vector<double> values;       // one per bin (histogram) or per point (scatter: y)
  std::vector<double> x;            // scatter only
  std::vector<std::string> titles;  // scatter only: hover text per point
};

// Grouped histogram over fixed bins: bin labels under the x axis, one bar
// per series in each bin, a dashed marker before bin `marker_before` (the
// tolerance), counts on a linear y axis.
std::string histogram_svg(const std::vector<std::string>& bin_labels,
                          const std::vector<Series>& series, std::size_t marker_before,
                          std::string_view title, int width, int height);

// Log-log scatter of series (x, values) over decades [x_lo, x_hi] x
// [y_lo, y_hi] (powers of ten), with a dashed horizontal line at y = line_y.
// The bottom row is labelled 0 (where exact results are drawn); with
// `top_is_inf` the top row is labelled inf (where infinite values are drawn).
// Grid labels thin out to about a dozen per axis.
std::string scatter_svg(const std::vector<Series>& series, int x_lo, int x_hi, int y_lo, int y_hi,
                        bool top_is_inf, double line_y, std::string_view x_label,
                        std::string_view y_label, int width, int height);

}  // namespace normcheck::report::detail
