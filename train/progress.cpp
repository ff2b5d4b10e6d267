#include "train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace lmul::train {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

Progress::Progress(int64_t total, bool enabled)
    : total_(total), enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0) {}

void Progress::update(int64_t done, const std::string& status, double seconds_per_unit, bool log_line) {
  if (!enabled_) return;
  const std::string eta = format_duration(seconds_per_unit * static_cast<double>(total_ - done));
  if (tty_) {
    fmt::print(stderr, "\r\033[K{} | ETA {}", status, eta);
    std::fflush(stderr);
    drawn_ = true;
  } else if (log_line) {
    fmt::print(stderr, "{} | ETA {}\n", status, eta);
  }
}

void Progress::line(const std::string& text) {
  if (tty_ && drawn_) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "{}\n", text);
  drawn_ = false;
}

void Progress::finish() {
  if (enabled_ && tty_ && drawn_) fmt::print(stderr, "\n");
  drawn_ = false;
}

}  // namespace lmul::train
