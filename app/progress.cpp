#include "app/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sngan {

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e8) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", static_cast<long>(t / 3600), static_cast<long>(t / 60 % 60));
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", static_cast<long>(t / 60), static_cast<long>(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%lds", static_cast<long>(t));
  return buf;
}

Progress::Progress(std::string label, int64_t total, int64_t start, double interval_s)
    : label_(std::move(label)), total_(total), start_(start), interval_s_(interval_s),
      tty_(isatty(STDERR_FILENO) != 0), t0_(std::chrono::steady_clock::now()), last_(t0_) {}

namespace {
bool g_quiet = false;
}  // namespace

void Progress::set_quiet(bool quiet) { g_quiet = quiet; }

void Progress::update(int64_t done, const std::string& extra) {
  if (g_quiet) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  const bool last_one = done >= total_;
  if (since_last < (tty_ ? 0.2 : interval_s_) && !last_one) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - t0_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done - start_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1;
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1;
  if (tty_) {
    const int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %ld/%ld %.2f it/s ETA %s %s\033[K", label_.c_str(), bar.c_str(),
                 static_cast<long>(done), static_cast<long>(total_), rate, format_duration(eta).c_str(),
                 extra.c_str());
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s %ld/%ld (%.1f%%) %.2f it/s elapsed %s ETA %s %s\n", label_.c_str(),
                 static_cast<long>(done), static_cast<long>(total_), 100 * frac, rate,
                 format_duration(elapsed).c_str(), format_duration(eta).c_str(), extra.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (g_quiet) return;
  if (tty_ && drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace sngan
