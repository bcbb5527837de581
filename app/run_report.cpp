#include "app/run_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/plot.h"

namespace sngan {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double number_or_nan(const json& line, const char* key) {
  auto it = line.find(key);
  return it != line.end() && it->is_number() ? it->get<double>() : NAN;
}

// The y range that holds the middle 98% of the finite values (with a margin), so that a few
// early spikes do not flatten the rest of a curve.
PlotRange robust_range(const std::vector<std::vector<double>>& columns) {
  std::vector<double> v;
  for (const auto& c : columns)
    for (double x : c)
      if (std::isfinite(x)) v.push_back(x);
  if (v.empty()) return {0, 1};
  std::sort(v.begin(), v.end());
  const double lo = v[static_cast<size_t>(0.01 * static_cast<double>(v.size() - 1))];
  const double hi = v[static_cast<size_t>(0.99 * static_cast<double>(v.size() - 1))];
  const double pad = hi > lo ? 0.08 * (hi - lo) : std::max(0.05 * std::abs(lo), 0.05);
  return {lo - pad, hi + pad};
}

// A series in the palette's next colour.
PlotSeries line_series(const std::string& name, const std::vector<double>& x, const std::vector<double>& y) {
  PlotSeries s;
  s.name = name;
  s.x = x;
  s.y = y;
  return s;
}

PlotColor lighter(PlotColor c) {
  auto mix = [](uint8_t v) { return static_cast<uint8_t>(v + (255 - v) * 0.6); };
  return {mix(c.r), mix(c.g), mix(c.b)};
}

// Raw series drawn thin and light under their smoothed versions.
std::vector<PlotSeries> raw_and_smoothed(const std::vector<double>& x,
                                         const std::vector<std::pair<std::string, const std::vector<double>*>>& ys) {
  static const PlotColor colors[] = {{31, 119, 180}, {255, 127, 14}};
  std::vector<PlotSeries> out;
  for (size_t k = 0; k < ys.size(); ++k) {
    out.push_back(line_series(ys[k].first + " (raw)", x, *ys[k].second));
    out.back().color = lighter(colors[k % 2]);
    out.back().thickness = 1;
    out.back().in_legend = false;
  }
  for (size_t k = 0; k < ys.size(); ++k) {
    out.push_back(line_series(ys[k].first + " (smoothed)", x, smooth(*ys[k].second)));
    out.back().color = colors[k % 2];
  }
  return out;
}

bool varies(const std::vector<double>& v) {
  for (double x : v)
    if (std::isfinite(x) && std::isfinite(v.front()) && x != v.front()) return true;
  return false;
}

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// File names in dir matching prefix*suffix, sorted by name (numbered names sort by number).
std::vector<std::string> files_like(const fs::path& dir, const std::string& prefix, const std::string& suffix) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return names;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && n.rfind(prefix, 0) == 0 && n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0 && n.find(".tmp.") == std::string::npos)
      names.push_back(n);
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return names;
}

// A logged value as a reader wants it: numbers to 6 significant digits.
std::string shown(const json& v) {
  if (!v.is_number_float()) return v.dump();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
  return buf;
}

std::string latest_values_table(const RunHistory& h) {
  if (h.size() == 0) return "<p>Nothing logged yet.</p>\n";
  std::ostringstream os;
  os << "<table>\n";
  for (auto it = h.last_line.begin(); it != h.last_line.end(); ++it) {
    if (it.key() == "sigma") continue;
    os << "<tr><th>" << escape_html(it.key()) << "</th><td>" << escape_html(shown(it.value())) << "</td></tr>\n";
  }
  for (const auto& [name, values] : h.sigma)
    os << "<tr><th>sigma " << escape_html(name) << "</th><td>" << shown(json(values.back())) << "</td></tr>\n";
  os << "</table>\n";
  return os.str();
}

std::string grids_section(const fs::path& dir) {
  std::ostringstream os;
  std::vector<std::string> grids = files_like(dir / "samples", "epoch_", ".png");
  std::reverse(grids.begin(), grids.end());
  if (fs::exists(dir / "samples" / "final.png")) grids.insert(grids.begin(), "final.png");
  for (const std::string& name : grids)
    os << "<figure><img src=\"samples/" << escape_html(name) << "\" alt=\"" << escape_html(name)
       << "\"><figcaption>" << escape_html(name) << "</figcaption></figure>\n";
  // Toy 2D runs write their samples as CSV files instead.
  for (const std::string& name : files_like(dir, "samples_", ".csv"))
    os << "<p><a href=\"" << escape_html(name) << "\">" << escape_html(name) << "</a></p>\n";
  if (grids.empty()) os << "<p>No sample grid yet (one is written at the end of every epoch).</p>\n";
  return os.str();
}

std::string checkpoints_section(const fs::path& dir) {
  std::ostringstream os;
  std::vector<std::string> names = files_like(dir / "checkpoints", "", ".safetensors");
  if (names.empty()) return "<p>No checkpoint yet.</p>\n";
  os << "<table>\n<tr><th>file</th><th>size</th></tr>\n";
  for (const std::string& name : names) {
    std::error_code ec;
    const auto bytes = fs::file_size(dir / "checkpoints" / name, ec);
    char size[32];
    std::snprintf(size, sizeof size, "%.1f MB", ec ? 0.0 : static_cast<double>(bytes) / 1e6);
    os << "<tr><td>checkpoints/" << escape_html(name) << "</td><td>" << size << "</td></tr>\n";
  }
  os << "</table>\n";
  return os.str();
}

}  // namespace

void RunHistory::add(const json& line) {
  if (line.contains("eval")) {
    evaluations.push_back(line);
    return;
  }
  const size_t before = step.size();
  step.push_back(number_or_nan(line, "step"));
  loss_d.push_back(number_or_nan(line, "loss_d"));
  loss_g.push_back(number_or_nan(line, "loss_g"));
  d_real.push_back(number_or_nan(line, "d_real"));
  d_fake.push_back(number_or_nan(line, "d_fake"));
  lr_g.push_back(number_or_nan(line, "lr_g"));
  lr_d.push_back(number_or_nan(line, "lr_d"));
  if (line.contains("sigma") && line["sigma"].is_object())
    for (auto it = line["sigma"].begin(); it != line["sigma"].end(); ++it) {
      std::vector<double>& column = sigma[it.key()];
      column.resize(before, NAN);
      column.push_back(it.value().is_number() ? it.value().get<double>() : NAN);
    }
  for (auto& [name, column] : sigma) column.resize(before + 1, NAN);
  last_line = line;
}

std::vector<double> smooth(const std::vector<double>& y, double decay) {
  std::vector<double> out(y.size(), NAN);
  double avg = 0, weight = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) continue;
    avg = decay * avg + (1 - decay) * y[i];
    weight = decay * weight + (1 - decay);
    out[i] = avg / weight;
  }
  return out;
}

std::vector<std::string> write_curves(const fs::path& dir, const RunHistory& h) {
  std::vector<std::string> written;
  const std::string x_label = "generator iteration";
  write_line_plot((dir / "loss.png").string(), raw_and_smoothed(h.step, {{"loss_d", &h.loss_d}, {"loss_g", &h.loss_g}}),
                  x_label, "losses", 800, 500, robust_range({h.loss_d, h.loss_g}));
  written.push_back("loss.png");
  write_line_plot((dir / "d_outputs.png").string(),
                  raw_and_smoothed(h.step, {{"D(x)", &h.d_real}, {"D(G(z))", &h.d_fake}}), x_label,
                  "mean discriminator logits on real and generated images", 800, 500,
                  robust_range({h.d_real, h.d_fake}));
  written.push_back("d_outputs.png");
  if (!h.sigma.empty()) {
    std::vector<PlotSeries> series;
    for (const auto& [name, values] : h.sigma) series.push_back(line_series(name, h.step, values));
    write_line_plot((dir / "sigma.png").string(), series, x_label,
                    "sigma(W) of each spectrally normalized layer (power-iteration estimate)");
    written.push_back("sigma.png");
  }
  if (!h.evaluations.empty()) {
    std::vector<double> x, fd, precision, recall;
    std::string features = "features";
    for (const json& line : h.evaluations) {
      const json& e = line["eval"];
      x.push_back(number_or_nan(line, "step"));
      fd.push_back(number_or_nan(e, "fd"));
      precision.push_back(number_or_nan(e, "precision"));
      recall.push_back(number_or_nan(e, "recall"));
      if (e.contains("features") && e["features"].is_string()) features = e["features"].get<std::string>();
    }
    const std::string distance = features == "inception_v3_fid" ? "FID" : "FD (" + features + ")";
    write_line_plot((dir / "eval_fd.png").string(), {line_series(distance, x, fd)}, x_label,
                    distance + " of generated against real images (lower is better)");
    write_line_plot((dir / "eval_pr.png").string(), {line_series("precision", x, precision), line_series("recall", x, recall)}, x_label,
                    "precision and recall (k = 3)", 800, 500, PlotRange{0, 1});
    written.push_back("eval_fd.png");
    written.push_back("eval_pr.png");
  }
  if (varies(h.lr_g) || varies(h.lr_d)) {
    write_line_plot((dir / "lr.png").string(), {line_series("lr_g", h.step, h.lr_g), line_series("lr_d", h.step, h.lr_d)}, x_label,
                    "learning rates");
    written.push_back("lr.png");
  }
  return written;
}

void write_report(const fs::path& dir, const json& resolved_config, const RunHistory& h,
                  const std::vector<std::string>& curves) {
  std::ostringstream os;
  const std::string title = "sngan run " + dir.filename().string();
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << escape_html(title)
     << "</title>\n<style>\nbody{font-family:sans-serif;margin:24px;max-width:1700px}"
        "img{max-width:100%;border:1px solid #ccc}figure{display:inline-block;margin:8px;vertical-align:top}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        "pre{background:#f5f5f5;padding:12px;overflow:auto}.curves img{width:640px}"
        ".samples img{width:400px;image-rendering:pixelated}\n</style>\n</head>\n<body>\n";
  os << "<h1>" << escape_html(title) << "</h1>\n";
  os << "<h2>Latest logged values</h2>\n" << latest_values_table(h);
  if (!h.evaluations.empty()) {
    os << "<h2>Latest evaluation (iteration " << escape_html(shown(h.evaluations.back()["step"])) << ")</h2>\n<table>\n";
    const json& e = h.evaluations.back()["eval"];
    for (auto it = e.begin(); it != e.end(); ++it)
      os << "<tr><th>" << escape_html(it.key()) << "</th><td>" << escape_html(shown(it.value())) << "</td></tr>\n";
    os << "</table>\n";
  }
  os << "<h2>Curves</h2>\n<div class=\"curves\">\n";
  for (const std::string& c : curves) os << "<figure><img src=\"" << escape_html(c) << "\" alt=\"" << escape_html(c) << "\"></figure>\n";
  os << "</div>\n<h2>Samples (newest first)</h2>\n<div class=\"samples\">\n" << grids_section(dir) << "</div>\n";
  os << "<h2>Checkpoints</h2>\n" << checkpoints_section(dir);
  os << "<h2>Resolved config</h2>\n<pre>" << escape_html(resolved_config.dump(2)) << "</pre>\n";
  os << "<p>Log: <a href=\"log.jsonl\">log.jsonl</a></p>\n</body>\n</html>\n";
  write_file_atomic((dir / "report.html").string(), os.str());
}

}  // namespace sngan
