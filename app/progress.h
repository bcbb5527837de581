// Terminal progress for long work: a redrawn bar with rate and ETA on a terminal, plain
// periodic lines (every `interval_s` seconds) when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sngan {

class Progress {
 public:
  Progress(std::string label, int64_t total, int64_t start = 0, double interval_s = 10.0);
  // Reports that `done` units are complete; `extra` is appended (e.g. the latest losses).
  void update(int64_t done, const std::string& extra = "");
  void finish();  // ends the bar's line
  // Silences every Progress of this process (MPI ranks other than 0 leave reporting to it).
  static void set_quiet(bool quiet);

 private:
  std::string label_;
  int64_t total_, start_;
  double interval_s_;
  bool tty_;
  std::chrono::steady_clock::time_point t0_, last_;
  bool drawn_ = false;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace sngan
