#include "core/io/plot.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/io/image_io.h"
#include "core/tensor/check.h"

namespace sngan {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr int kShift = 4;  // sub-pixel bits for cv::line / cv::circle coordinates
constexpr int kBarThickness = -1;  // marks a legend entry of a bar series (a filled square)

// matplotlib's tab10, RGB.
const PlotColor kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                              {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};

cv::Scalar bgr(PlotColor c) { return cv::Scalar(c.b, c.g, c.r); }

// Hershey fonts draw ASCII only.
std::string printable(const std::string& s) {
  std::string out = s;
  for (char& ch : out)
    if (ch < 32 || ch > 126) ch = '?';
  return out;
}

struct Axis {
  double lo = 0, hi = 1;
  bool any = false;
  void add(double v) {
    lo = any ? std::min(lo, v) : v;
    hi = any ? std::max(hi, v) : v;
    any = true;
  }
  // Turns the data extent into a drawable range: finite, non-empty, `margin` extra each side.
  void finish(double margin) {
    if (!any) return;  // keeps [0, 1]
    lo = std::clamp(lo, -1e300, 1e300);
    hi = std::clamp(hi, -1e300, 1e300);
    const double span = hi - lo;
    const double pad = span > 0 ? span * margin : (lo != 0 ? std::abs(lo) * 0.05 : 1.0);
    lo -= pad;
    hi += pad;
  }
};

// About six "nice" ticks (1, 2 or 5 times a power of ten) inside [lo, hi].
std::vector<double> nice_ticks(double lo, double hi) {
  std::vector<double> ticks;
  const double span = hi - lo;
  if (!(span > 0) || !std::isfinite(span)) return ticks;
  const double raw = span / 6;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  if (!(step > 0) || !std::isfinite(step)) return ticks;
  const double first = std::ceil(lo / step) * step;
  for (int i = 0; i < 20; ++i) {
    const double t = first + i * step;
    if (t > hi + step * 1e-9) break;
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void put_text(cv::Mat& img, const std::string& s, cv::Point at, double scale, int thickness = 1,
              cv::Scalar color = cv::Scalar(0, 0, 0)) {
  cv::putText(img, printable(s), at, kFont, scale, color, thickness, cv::LINE_AA);
}

cv::Size text_size(const std::string& s, double scale, int thickness = 1) {
  int baseline = 0;
  return cv::getTextSize(printable(s), kFont, scale, thickness, &baseline);
}

// The names and colours of the series listed in the legend, in a box at the top right corner
// of the plot area, whose right edge is at x = `right` and top at y = `top`; `pw` is the plot
// area's width.
void draw_legend(cv::Mat& img, const std::vector<PlotSeries>& series, int right, int top, int pw) {
  std::vector<size_t> listed;
  for (size_t k = 0; k < series.size(); ++k)
    if (series[k].in_legend) listed.push_back(k);
  if (listed.empty()) return;
  const double scale = 0.45;
  int text_w = 0;
  for (size_t k : listed) text_w = std::max(text_w, text_size(series[k].name, scale).width);
  const int row_h = 20, box_w = std::min(pw - 20, text_w + 44), box_h = row_h * static_cast<int>(listed.size()) + 8;
  const int bx = right - box_w - 10, by = top + 10;
  cv::rectangle(img, {bx, by}, {bx + box_w, by + box_h}, cv::Scalar(255, 255, 255), cv::FILLED);
  cv::rectangle(img, {bx, by}, {bx + box_w, by + box_h}, cv::Scalar(160, 160, 160), 1);
  for (size_t row = 0; row < listed.size(); ++row) {
    const PlotSeries& s = series[listed[row]];
    const int y = by + 4 + row_h * static_cast<int>(row) + row_h / 2;
    const cv::Scalar color = bgr(s.color.value_or(kPalette[listed[row] % std::size(kPalette)]));
    if (s.line) cv::line(img, {bx + 8, y}, {bx + 32, y}, color, 2, cv::LINE_AA);
    if (s.thickness == kBarThickness) cv::rectangle(img, {bx + 13, y - 6}, {bx + 27, y + 6}, color, cv::FILLED);
    else if (s.markers || !s.line) cv::circle(img, {bx + 20, y}, 4, color, cv::FILLED, cv::LINE_AA);
    put_text(img, s.name, {bx + 38, y + 5}, scale);
  }
}

// The series in drawing coordinates: log10 of x and/or y on log axes (non-positive -> NaN,
// which is skipped like any non-finite point).
std::vector<PlotSeries> to_axes(const std::vector<PlotSeries>& series, const PlotAxes& axes) {
  std::vector<PlotSeries> out = series;
  auto log_or_nan = [](double v) { return v > 0 ? std::log10(v) : std::nan(""); };
  for (PlotSeries& s : out) {
    if (axes.log_x)
      for (double& v : s.x) v = log_or_nan(v);
    if (axes.log_y)
      for (double& v : s.y) v = log_or_nan(v);
  }
  return out;
}

// `text` written bottom to top with its centre at (cx, cy).
void put_vertical_text(cv::Mat& img, const std::string& text, int cx, int cy, double scale) {
  const cv::Size sz = text_size(text, scale);
  if (sz.width <= 0) return;
  cv::Mat strip(sz.height + 8, sz.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
  put_text(strip, text, {2, sz.height + 3}, scale);
  cv::Mat turned;
  cv::rotate(strip, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int x0 = std::clamp(cx - turned.cols / 2, 0, img.cols - turned.cols);
  const int y0 = std::clamp(cy - turned.rows / 2, 0, std::max(0, img.rows - turned.rows));
  if (turned.rows > img.rows || turned.cols > img.cols) return;
  turned.copyTo(img(cv::Rect(x0, y0, turned.cols, turned.rows)));
}

}  // namespace

void write_line_plot(const std::string& path, const std::vector<PlotSeries>& input, const std::string& x_label,
                     const std::string& title, int width, int height, std::optional<PlotRange> y_range,
                     const PlotAxes& axes) {
  const std::vector<PlotSeries> series = to_axes(input, axes);
  SNGAN_CHECK(width >= 200 && width <= 8192 && height >= 200 && height <= 8192, "cannot write plot '", path,
              "': expected a size within [200, 8192] x [200, 8192], got ", width, " x ", height);
  Axis ax, ay;
  for (const PlotSeries& s : series) {
    SNGAN_CHECK(s.x.size() == s.y.size(), "cannot write plot '", path, "': expected series '", s.name,
                "' to have as many x as y values, got ", s.x.size(), " x and ", s.y.size(), " y");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      ax.add(s.x[i]);
      ay.add(s.y[i]);
    }
  }
  // Points-only series get a margin on x too, so that no marker sits on the frame.
  const bool any_scatter = std::any_of(series.begin(), series.end(), [](const PlotSeries& s) { return !s.line; });
  ax.finish(any_scatter ? 0.06 : 0.0);
  ay.finish(0.05);
  if (y_range && axes.log_y && y_range->lo > 0) y_range = PlotRange{std::log10(y_range->lo), std::log10(y_range->hi)};
  if (y_range && y_range->lo < y_range->hi && std::isfinite(y_range->lo) && std::isfinite(y_range->hi)) {
    ay.lo = y_range->lo;
    ay.hi = y_range->hi;
  }

  const double tick_scale = 0.42;
  const int left = axes.y_label.empty() ? 80 : 100, right = 20, top = 44, bottom = 58;
  const int pw = width - left - right, ph = height - top - bottom;  // plot area
  auto px = [&](double x) { return left + std::clamp((x - ax.lo) / (ax.hi - ax.lo), -10.0, 10.0) * pw; };
  auto py = [&](double y) { return top + ph - std::clamp((y - ay.lo) / (ay.hi - ay.lo), -10.0, 10.0) * ph; };
  auto point = [](double x, double y) {
    return cv::Point(static_cast<int>(std::lround(x * (1 << kShift))), static_cast<int>(std::lround(y * (1 << kShift))));
  };

  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar grid_color(225, 225, 225), black(0, 0, 0);

  for (double t : nice_ticks(ax.lo, ax.hi)) {
    const int x = static_cast<int>(std::lround(px(t)));
    cv::line(img, {x, top}, {x, top + ph}, grid_color, 1);
    cv::line(img, {x, top + ph}, {x, top + ph + 5}, black, 1);
    const std::string label = tick_label(axes.log_x ? std::pow(10.0, t) : t);
    put_text(img, label, {x - text_size(label, tick_scale).width / 2, top + ph + 20}, tick_scale);
  }
  for (double t : nice_ticks(ay.lo, ay.hi)) {
    const int y = static_cast<int>(std::lround(py(t)));
    cv::line(img, {left, y}, {left + pw, y}, grid_color, 1);
    cv::line(img, {left - 5, y}, {left, y}, black, 1);
    const std::string label = tick_label(axes.log_y ? std::pow(10.0, t) : t);
    const cv::Size sz = text_size(label, tick_scale);
    put_text(img, label, {left - 8 - sz.width, y + sz.height / 2}, tick_scale);
  }
  cv::rectangle(img, {left, top}, {left + pw, top + ph}, black, 1);
  put_text(img, title, {(width - text_size(title, 0.6).width) / 2, 28}, 0.6);
  put_text(img, x_label, {left + (pw - text_size(x_label, 0.5).width) / 2, height - 12}, 0.5);
  if (!axes.y_label.empty()) put_vertical_text(img, axes.y_label, 14, top + ph / 2, 0.5);

  // Lines, clipped to the plot area; a non-finite point breaks the line.
  cv::Mat area = img(cv::Rect(left, top, pw, ph));
  for (size_t k = 0; k < series.size(); ++k) {
    const PlotSeries& s = series[k];
    const cv::Scalar color = bgr(s.color.value_or(kPalette[k % std::size(kPalette)]));
    auto ok = [&s](size_t i) { return std::isfinite(s.x[i]) && std::isfinite(s.y[i]); };
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!ok(i)) continue;
      const cv::Point p = point(px(s.x[i]) - left, py(s.y[i]) - top);
      const bool prev = i > 0 && ok(i - 1), next = i + 1 < s.x.size() && ok(i + 1);
      if (prev && s.line)
        cv::line(area, point(px(s.x[i - 1]) - left, py(s.y[i - 1]) - top), p, color, s.thickness, cv::LINE_AA, kShift);
      if (s.markers)
        cv::circle(area, p, (s.thickness + 2) << kShift, color, cv::FILLED, cv::LINE_AA, kShift);
      else if (!prev && !next)
        cv::circle(area, p, 2 << kShift, color, cv::FILLED, cv::LINE_AA, kShift);
    }
  }

  draw_legend(img, series, left + pw, top, pw);
  detail::write_mat_atomic(path, img);
}

void write_bar_plot(const std::string& path, const std::vector<std::string>& categories,
                    const std::vector<BarSeries>& series, const std::string& x_label, const std::string& title,
                    const std::string& y_label, int width, int height, std::optional<PlotRange> y_range) {
  SNGAN_CHECK(width >= 200 && width <= 8192 && height >= 200 && height <= 8192, "cannot write plot '", path,
              "': expected a size within [200, 8192] x [200, 8192], got ", width, " x ", height);
  Axis ay;
  ay.add(0);  // bars grow from 0
  for (const BarSeries& s : series) {
    SNGAN_CHECK(s.values.size() == categories.size(), "cannot write plot '", path, "': expected series '", s.name,
                "' to have one value per category (", categories.size(), "), got ", s.values.size());
    for (double v : s.values)
      if (std::isfinite(v)) ay.add(v);
  }
  ay.finish(0.05);
  if (ay.lo < 0 && ay.lo > -1e300 && std::all_of(series.begin(), series.end(), [](const BarSeries& s) {
        return std::none_of(s.values.begin(), s.values.end(), [](double v) { return v < 0; });
      }))
    ay.lo = 0;  // no negative values: the axis starts at 0
  if (y_range && y_range->lo < y_range->hi && std::isfinite(y_range->lo) && std::isfinite(y_range->hi)) {
    ay.lo = y_range->lo;
    ay.hi = y_range->hi;
  }

  // Several series: the legend goes right of the plot area, clear of the bars.
  int legend_w = 0;
  if (series.size() > 1)
    for (const BarSeries& s : series) legend_w = std::max(legend_w, text_size(s.name, 0.45).width + 44);
  const double tick_scale = 0.42;
  const int left = y_label.empty() ? 80 : 100, right = 20 + std::min(legend_w + 10, width / 3), top = 44,
            bottom = 58;
  const int pw = width - left - right, ph = height - top - bottom;
  auto py = [&](double y) {
    return static_cast<int>(std::lround(top + ph - std::clamp((y - ay.lo) / (ay.hi - ay.lo), 0.0, 1.0) * ph));
  };
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar grid_color(225, 225, 225), black(0, 0, 0);
  for (double t : nice_ticks(ay.lo, ay.hi)) {
    const int y = py(t);
    cv::line(img, {left, y}, {left + pw, y}, grid_color, 1);
    cv::line(img, {left - 5, y}, {left, y}, black, 1);
    const std::string label = tick_label(t);
    const cv::Size sz = text_size(label, tick_scale);
    put_text(img, label, {left - 8 - sz.width, y + sz.height / 2}, tick_scale);
  }

  const size_t n_cat = std::max<size_t>(1, categories.size()), n_series = std::max<size_t>(1, series.size());
  const double slot = static_cast<double>(pw) / static_cast<double>(n_cat);
  const double bar_w = 0.8 * slot / static_cast<double>(n_series);
  const int base = py(std::clamp(0.0, ay.lo, ay.hi));
  for (size_t c = 0; c < categories.size(); ++c) {
    const double slot_x = left + slot * static_cast<double>(c);
    for (size_t k = 0; k < series.size(); ++k) {
      const double v = series[k].values[c];
      if (!std::isfinite(v)) continue;
      const PlotColor pc = series[k].color.value_or(
          kPalette[(series.size() == 1 ? c : k) % std::size(kPalette)]);
      const int x0 = static_cast<int>(std::lround(slot_x + 0.1 * slot + bar_w * static_cast<double>(k)));
      const int x1 = std::max(x0 + 1, static_cast<int>(std::lround(slot_x + 0.1 * slot + bar_w * (k + 1.0))) - 1);
      const int y = py(v);
      cv::rectangle(img, {x0, std::min(y, base)}, {x1, std::max(y, base)}, bgr(pc), cv::FILLED);
    }
    const std::string label = categories[c];
    const int cx = static_cast<int>(std::lround(slot_x + slot / 2));
    cv::line(img, {cx, top + ph}, {cx, top + ph + 5}, black, 1);
    put_text(img, label, {cx - text_size(label, tick_scale).width / 2, top + ph + 20}, tick_scale);
  }
  if (ay.lo < 0 && ay.hi > 0) cv::line(img, {left, base}, {left + pw, base}, black, 1);
  cv::rectangle(img, {left, top}, {left + pw, top + ph}, black, 1);
  put_text(img, title, {(width - text_size(title, 0.6).width) / 2, 28}, 0.6);
  put_text(img, x_label, {left + (pw - text_size(x_label, 0.5).width) / 2, height - 12}, 0.5);
  if (!y_label.empty()) put_vertical_text(img, y_label, 14, top + ph / 2, 0.5);
  if (series.size() > 1) {
    std::vector<PlotSeries> legend;
    for (size_t k = 0; k < series.size(); ++k) {
      PlotSeries entry{series[k].name, {}, {}, series[k].color.value_or(kPalette[k % std::size(kPalette)])};
      entry.line = false;
      entry.thickness = kBarThickness;
      legend.push_back(entry);
    }
    draw_legend(img, legend, width, top - 10, right);
  }
  detail::write_mat_atomic(path, img);
}

}  // namespace sngan
