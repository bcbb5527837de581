// `sngan plot`: a PNG figure from a CSV file, so the experiment scripts draw the paper's
// figures without Python. One series per distinct value of --group (in order of first
// appearance; one series when no group), x and y taken from named numeric columns; or, with
// --bars, a grouped bar chart with x's values as the categories.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace sngan {

struct PlotOptions {
  std::string csv;
  std::string x, y;                 // column names
  std::string group;                // column whose values name the series; empty: one series
  std::vector<std::string> where;   // "COL=VALUE": keep only rows where COL equals VALUE
  std::string out;
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  double y_min = std::nan(""), y_max = std::nan("");  // y range; NaN: the data's extent
  bool points = false;              // markers only, no lines (grouped points)
  bool bars = false;                // a grouped bar chart: x names the categories (any text, in order
                                    // of first appearance), one bar per series in each
  bool sort_x = true;               // sort each series by x before drawing lines
  int width = 800, height = 500;
};

// A CSV table: the header's column names and every row's fields (no quoting; fields are
// separated by commas and trimmed of surrounding blanks).
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

// Throws sngan::Error naming the path and line when the file cannot be read or a row has
// another field count than the header.
CsvTable read_csv(const std::string& path);

int run_plot(const PlotOptions& options);

}  // namespace sngan
