// What a run shows besides its samples: the curves of its log and report.html.
//   loss.png       loss_d and loss_g, raw (thin, light) and smoothed (debiased moving average)
//   d_outputs.png  mean D(x) and D(G(z)) of the last discriminator step (logits)
//   sigma.png      sigma of every spectrally normalized layer (runs with SN)
//   lr.png         the learning rates (runs whose rates change)
//   eval_fd.png, eval_pr.png  the evaluation during training (output.eval_every): FD/FID, and
//                  precision and recall, against the generator iteration
//   report.html    one static page (no server, no network): the latest logged values, the
//                  curves, the sample grids newest first, the checkpoints and the resolved config.
// Both are redrawn at the end of every epoch and of the run.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sngan {

// Every logged step of a run, as columns (one entry per log.jsonl line).
struct RunHistory {
  std::vector<double> step, loss_d, loss_g, d_real, d_fake, lr_g, lr_d;
  std::map<std::string, std::vector<double>> sigma;  // per SN layer; NaN where a line lacks it
  nlohmann::json last_line;                          // the newest training line as logged
  // Evaluation lines ({"step", "eval": {...}}), kept apart from the training columns.
  std::vector<nlohmann::json> evaluations;
  // Appends one log.jsonl line (absent values become NaN); an evaluation line goes to
  // `evaluations` only.
  void add(const nlohmann::json& line);
  size_t size() const { return step.size(); }
};

// Debiased exponential moving average (weight `decay` on the past), skipping NaNs.
std::vector<double> smooth(const std::vector<double>& y, double decay = 0.9);

// Draws the curves into `dir`; returns the file names written, in the order the report shows.
std::vector<std::string> write_curves(const std::filesystem::path& dir, const RunHistory& history);

// Writes dir/report.html (atomically) for the run directory `dir`: every picture it references
// is a file in `dir` at the time of writing, by relative path.
void write_report(const std::filesystem::path& dir, const nlohmann::json& resolved_config,
                  const RunHistory& history, const std::vector<std::string>& curves);

}  // namespace sngan
