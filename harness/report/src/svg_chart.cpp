#include "svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace normcheck::report::detail {

std::string series_color(std::size_t i) {
  static constexpr std::array<const char*, 8> palette{"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                                      "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
  return palette[i % palette.size()];
}

namespace {

constexpr int kLeft = 52, kRight = 12, kTop = 26, kBottom = 44;

std::string legend(const std::vector<Series>& series, int x, int y) {
  std::string s;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const int lx = x + int(i) * 110;
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>", lx, y - 9,
                     series_color(i));
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"lg\">{}</text>", lx + 14, y,
                     markup_escape(series[i].name));
  }
  return s;
}

}  // namespace

std::string histogram_svg(const std::vector<std::string>& bin_labels,
                          const std::vector<Series>& series, std::size_t marker_before,
                          std::string_view title, int width, int height) {
  const int plot_w = width - kLeft - kRight, plot_h = height - kTop - kBottom;
  double top = 1.0;
  for (const auto& s : series)
    for (double v : s.values) top = std::max(top, v);
  const double bin_w = double(plot_w) / double(bin_labels.size());
  const double bar_w =
      std::max(1.0, (bin_w - 4.0) / double(std::max<std::size_t>(series.size(), 1)));
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">",
      width, height, width, height);
  s += fmt::format("<text x=\"{}\" y=\"15\" class=\"ct\">{}</text>", kLeft, markup_escape(title));
  s += legend(series, kLeft + 150, 15);
  // y axis: 0, top/2, top
  for (int k = 0; k <= 2; ++k) {
    const double v = top * k / 2.0;
    const double y = kTop + plot_h - plot_h * k / 2.0;
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>",
                     kLeft, kLeft + plot_w, y, y);
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"ax\" text-anchor=\"end\">{:.0f}</text>",
                     kLeft - 4, y + 4, v);
  }
  for (std::size_t b = 0; b < bin_labels.size(); ++b) {
    const double x0 = kLeft + bin_w * double(b);
    for (std::size_t i = 0; i < series.size(); ++i) {
      const double v = b < series[i].values.size() ? series[i].values[b] : 0.0;
      if (v <= 0.0) continue;
      const double h = plot_h * v / top;
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
          "fill=\"{}\"><title>{}: {:.0f}</title></rect>",
          x0 + 2.0 + bar_w * double(i), kTop + plot_h - h, bar_w, h, series_color(i),
          markup_escape(series[i].name + " " + bin_labels[b]), v);
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"ax\" text-anchor=\"middle\">{}</text>",
                     x0 + bin_w / 2.0, kTop + plot_h + 14, markup_escape(bin_labels[b]));
  }
  if (marker_before <= bin_labels.size()) {
    const double x = kLeft + bin_w * double(marker_before);
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" class=\"tol\"/>", x, x,
                     kTop, kTop + plot_h);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"ax\">tolerance</text>", x + 3, kTop + 10);
  }
  s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" class=\"axis\"/>", kLeft,
                   kLeft + plot_w, kTop + plot_h, kTop + plot_h);
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" class=\"ax\" text-anchor=\"middle\">bound ratio (error / documented "
      "bound)</text>",
      kLeft + plot_w / 2, height - 6);
  return s + "</svg>";
}

std::string scatter_svg(const std::vector<Series>& series, int x_lo, int x_hi, int y_lo, int y_hi,
                        bool top_is_inf, double line_y, std::string_view x_label,
                        std::string_view y_label, int width, int height) {
  const int plot_w = width - kLeft - kRight, plot_h = height - kTop - kBottom;
  const auto px = [&](double v) {
    const double l = std::clamp(std::log10(v), double(x_lo), double(x_hi));
    return kLeft + plot_w * (l - x_lo) / double(x_hi - x_lo);
  };
  const auto py = [&](double v) {
    const double l = std::clamp(std::log10(v), double(y_lo), double(y_hi));
    return kTop + plot_h - plot_h * (l - y_lo) / double(y_hi - y_lo);
  };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">",
      width, height, width, height);
  s += legend(series, kLeft, 15);
  const int x_step = std::max(1, (x_hi - x_lo + 11) / 12);
  const int y_step = std::max(1, (y_hi - y_lo + 11) / 12);
  for (int d = x_lo; d <= x_hi; ++d) {
    if ((d - x_lo) % x_step != 0 && d != x_hi) continue;
    const double x = px(std::pow(10.0, d));
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" class=\"grid\"/>", x, x,
                     kTop, kTop + plot_h);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"ax\" text-anchor=\"middle\">1e{}</text>",
                     x, kTop + plot_h + 14, d);
  }
  for (int d = y_lo; d <= y_hi; ++d) {
    if ((y_hi - d) % y_step != 0 && d != y_lo && d != 0) continue;
    const double y = py(std::pow(10.0, d));
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>",
                     kLeft, kLeft + plot_w, y, y);
    // The floor holds what cannot be drawn on a log scale: exact results.
    const std::string label = d == y_lo                 ? std::string("0")
                              : d == y_hi && top_is_inf ? std::string("inf")
                                                        : fmt::format("1e{}", d);
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"ax\" text-anchor=\"end\">{}</text>",
                     kLeft - 4, y + 4, label);
  }
  const double ly = py(line_y);
  s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"tol\"/>", kLeft,
                   kLeft + plot_w, ly, ly);
  s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"ax\" text-anchor=\"end\">tolerance</text>",
                   kLeft + plot_w - 2, ly - 4);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& se = series[i];
    for (std::size_t k = 0; k < se.x.size() && k < se.values.size(); ++k) {
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" fill-opacity=\"0.55\">",
          px(se.x[k]), py(se.values[k]), series_color(i));
      if (k < se.titles.size()) s += "<title>" + markup_escape(se.titles[k]) + "</title>";
      s += "</circle>";
    }
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"ax\" text-anchor=\"middle\">{}</text>",
                   kLeft + plot_w / 2, height - 6, markup_escape(x_label));
  s += fmt::format(
      "<text x=\"12\" y=\"{}\" class=\"ax\" text-anchor=\"middle\" transform=\"rotate(-90 12 "
      "{})\">{}</text>",
      kTop + plot_h / 2, kTop + plot_h / 2, markup_escape(y_label));
  return s + "</svg>";
}

}  // namespace normcheck::report::detail
