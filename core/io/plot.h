// Line plots as image files (the per-epoch loss curves: loss_d and loss_g against step),
// drawn with OpenCV: axes with tick labels, light grid, title, x label, a legend, one
// polyline per series. Written atomically (encode in memory, write_file_atomic); the format
// follows the path's extension (PNG when there is none).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sngan {

struct PlotColor {
  uint8_t r = 0, g = 0, b = 0;
};

struct PlotSeries {
  std::string name;                // legend entry (ASCII; other bytes print as '?')
  std::vector<double> x, y;        // equal lengths; a point with a non-finite x or y is
                                   // skipped and breaks the line there
  std::optional<PlotColor> color;  // default: a fixed palette, by series index
  int thickness = 2;               // line width in pixels
  bool in_legend = true;           // false: drawn, but not listed in the legend
  bool line = true;                // false: no connecting line (a scatter of markers)
  bool markers = false;            // true: a filled circle at every finite point
};

// The y range to draw; points outside it are clipped at the plot's border.
struct PlotRange {
  double lo = 0, hi = 1;
};

// Optional parts of a figure; the defaults draw what write_line_plot always drew.
struct PlotAxes {
  std::string y_label;  // written vertically left of the y tick labels; none when empty
  bool log_x = false;   // x on a log10 scale (points with x <= 0 are skipped); ticks read as x
  bool log_y = false;   // the same for y
};

// Writes a width x height picture (defaults 800 x 500). The axes span the finite points of
// all series (a little margin on y, and on x when a series is points only; `y_range`, when given and lo < hi, sets y instead); with no
// finite point at all, empty axes over [0, 1].
// Throws sngan::Error naming path when a series has x and y of different lengths, the size is
// outside [200, 8192], or writing fails. With log axes, y_range is given in data units.
void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const std::string& x_label,
                     const std::string& title, int width = 800, int height = 500,
                     std::optional<PlotRange> y_range = std::nullopt, const PlotAxes& axes = {});

// A grouped bar chart: one slot per category (its label under the x axis), and in each slot
// one bar per series, side by side, from 0 (or the axis' lower end) to the value. A NaN value
// draws no bar. With one series the bars take the palette's colours by category and no legend
// is drawn. y_range as for write_line_plot; by default the axis spans 0 and every value.
// Throws sngan::Error naming path when a series has another count of values than there are
// categories, the size is outside [200, 8192], or writing fails.
struct BarSeries {
  std::string name;            // legend entry
  std::vector<double> values;  // one per category
  std::optional<PlotColor> color;
};
void write_bar_plot(const std::string& path, const std::vector<std::string>& categories,
                    const std::vector<BarSeries>& series, const std::string& x_label, const std::string& title,
                    const std::string& y_label, int width = 800, int height = 500,
                    std::optional<PlotRange> y_range = std::nullopt);

}  // namespace sngan
