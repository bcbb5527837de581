#include "app/plot_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <numeric>

#include "core/io/plot.h"
#include "core/tensor/check.h"

namespace sngan {
namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

size_t column_index(const CsvTable& t, const std::string& name, const std::string& path, const char* option) {
  auto it = std::find(t.columns.begin(), t.columns.end(), name);
  SNGAN_CHECK(it != t.columns.end(), option, ": expected a column of ", path, ", got '", name, "' (columns: ",
              [&] {
                std::string all;
                for (const std::string& c : t.columns) all += (all.empty() ? "" : ", ") + c;
                return all;
              }(),
              ")");
  return static_cast<size_t>(it - t.columns.begin());
}

// A field as a number; empty or non-numeric fields ("nan", "") become NaN and are skipped.
double number(const std::string& field) {
  if (field.empty()) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(field.c_str(), &end);
  return end && *end == '\0' ? v : std::nan("");
}

}  // namespace

CsvTable read_csv(const std::string& path) {
  std::ifstream in(path);
  SNGAN_CHECK(in.good(), "cannot read CSV '", path, "': no such file or not readable");
  CsvTable t;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    std::vector<std::string> fields = split_fields(line);
    if (t.columns.empty()) {
      t.columns = std::move(fields);
      continue;
    }
    SNGAN_CHECK(fields.size() == t.columns.size(), "CSV '", path, "' line ", line_no, ": expected ",
                t.columns.size(), " fields like the header, got ", fields.size());
    t.rows.push_back(std::move(fields));
  }
  SNGAN_CHECK(!t.columns.empty(), "CSV '", path, "': expected a header line, the file is empty");
  return t;
}

namespace {

using Filters = std::vector<std::pair<size_t, std::string>>;  // --where: column index, value

bool passes(const std::vector<std::string>& row, const Filters& filters) {
  for (const auto& [col, value] : filters)
    if (row[col] != value) return false;
  return true;
}

// --bars: one category per distinct x value, one bar series per group value.
int plot_bars(const PlotOptions& o, const CsvTable& t, size_t xi, size_t yi, size_t gi, const Filters& filters) {
  SNGAN_CHECK(!o.log_x && !o.log_y && !o.points, "--bars: expected no --logx, --logy or --points with it");
  const size_t none = t.columns.size();
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  for (const auto& row : t.rows) {
    if (!passes(row, filters)) continue;
    auto cat = std::find(categories.begin(), categories.end(), row[xi]);
    if (cat == categories.end()) {
      categories.push_back(row[xi]);
      for (BarSeries& s : series) s.values.push_back(std::nan(""));
      cat = categories.end() - 1;
    }
    const std::string name = gi == none ? o.y : row[gi];
    auto it = std::find_if(series.begin(), series.end(), [&](const BarSeries& s) { return s.name == name; });
    if (it == series.end()) {
      series.push_back(BarSeries{name, std::vector<double>(categories.size(), std::nan("")), std::nullopt});
      it = series.end() - 1;
    }
    it->values[static_cast<size_t>(cat - categories.begin())] = number(row[yi]);
  }
  SNGAN_CHECK(!series.empty(), o.csv, ": no rows to plot", o.where.empty() ? "" : " after --where");
  std::optional<PlotRange> y_range;
  if (!std::isnan(o.y_min) || !std::isnan(o.y_max)) {
    double hi = 0;
    for (const BarSeries& s : series)
      for (double v : s.values)
        if (std::isfinite(v)) hi = std::max(hi, v);
    y_range = PlotRange{std::isnan(o.y_min) ? 0.0 : o.y_min, std::isnan(o.y_max) ? 1.05 * hi : o.y_max};
    SNGAN_CHECK(y_range->lo < y_range->hi, "--ymin/--ymax: expected ymin < ymax, got ", y_range->lo, " and ",
                y_range->hi);
  }
  write_bar_plot(o.out, categories, series, o.x_label.empty() ? o.x : o.x_label, o.title,
                 o.y_label.empty() ? o.y : o.y_label, o.width, o.height, y_range);
  std::printf("%s: %zu categories x %zu series from %s\n", o.out.c_str(), categories.size(), series.size(),
              o.csv.c_str());
  return 0;
}

}  // namespace

int run_plot(const PlotOptions& o) {
  const CsvTable t = read_csv(o.csv);
  const size_t xi = column_index(t, o.x, o.csv, "--x"), yi = column_index(t, o.y, o.csv, "--y");
  const size_t none = t.columns.size();
  const size_t gi = o.group.empty() ? none : column_index(t, o.group, o.csv, "--group");
  Filters filters;
  for (const std::string& w : o.where) {
    const size_t eq = w.find('=');
    SNGAN_CHECK(eq != std::string::npos, "--where: expected COL=VALUE, got '", w, "'");
    filters.emplace_back(column_index(t, w.substr(0, eq), o.csv, "--where"), w.substr(eq + 1));
  }
  if (o.bars) return plot_bars(o, t, xi, yi, gi, filters);

  std::vector<PlotSeries> series;
  for (const auto& row : t.rows) {
    if (!passes(row, filters)) continue;
    const std::string name = gi == none ? o.y : row[gi];
    auto it = std::find_if(series.begin(), series.end(), [&](const PlotSeries& s) { return s.name == name; });
    if (it == series.end()) {
      series.push_back(PlotSeries{name, {}, {}, std::nullopt});
      it = series.end() - 1;
    }
    it->x.push_back(number(row[xi]));
    it->y.push_back(number(row[yi]));
  }
  SNGAN_CHECK(!series.empty(), o.csv, ": no rows to plot", o.where.empty() ? "" : " after --where");
  for (PlotSeries& s : series) {
    s.line = !o.points;
    s.markers = o.points;
    if (!o.sort_x || o.points) continue;
    std::vector<size_t> order(s.x.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s.x[a] < s.x[b]; });
    std::vector<double> x, y;
    for (size_t i : order) {
      x.push_back(s.x[i]);
      y.push_back(s.y[i]);
    }
    s.x = std::move(x);
    s.y = std::move(y);
  }
  PlotAxes axes;
  axes.y_label = o.y_label.empty() ? o.y : o.y_label;
  axes.log_x = o.log_x;
  axes.log_y = o.log_y;
  std::optional<PlotRange> y_range;
  if (!std::isnan(o.y_min) || !std::isnan(o.y_max)) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const PlotSeries& s : series)
      for (double v : s.y)
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
    const double pad = std::isfinite(hi - lo) ? 0.05 * (hi - lo) : 0;
    y_range = PlotRange{std::isnan(o.y_min) ? lo - pad : o.y_min, std::isnan(o.y_max) ? hi + pad : o.y_max};
    SNGAN_CHECK(y_range->lo < y_range->hi, "--ymin/--ymax: expected ymin < ymax, got ", y_range->lo, " and ",
                y_range->hi);
  }
  write_line_plot(o.out, series, o.x_label.empty() ? o.x : o.x_label, o.title, o.width, o.height, y_range, axes);
  std::printf("%s: %zu series from %s\n", o.out.c_str(), series.size(), o.csv.c_str());
  return 0;
}

}  // namespace sngan
