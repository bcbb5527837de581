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
};

// The y range to draw; points outside it are clipped at the plot's border.
struct PlotRange {
  double lo = 0, hi = 1;
};

// Writes a width x height picture (defaults 800 x 500). The axes span the finite points of
// all series (a little margin on y; `y_range`, when given and lo < hi, sets y instead); with no
// finite point at all, empty axes over [0, 1].
// Throws sngan::Error naming path when a series has x and y of different lengths, the size is
// outside [200, 8192], or writing fails.
void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const std::string& x_label,
                     const std::string& title, int width = 800, int height = 500,
                     std::optional<PlotRange> y_range = std::nullopt);

}  // namespace sngan
