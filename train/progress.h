// A live progress line on stderr: "\r" updates on a terminal; without one (a log file, a pipe), a
// plain line when the caller says so (the training loop: every log_interval steps).
#pragma once
#include <cstdint>
#include <string>

namespace lmul::train {

class Progress {
 public:
  Progress(int64_t total, bool enabled);
  // Redraws with the given status text and an ETA from the mean seconds per unit so far; without
  // a terminal, prints it as a line when log_line is true.
  void update(int64_t done, const std::string& status, double seconds_per_unit, bool log_line);
  void finish();
  // Prints a full line (e.g. an eval result) without breaking the progress line.
  void line(const std::string& text);

 private:
  int64_t total_;
  bool enabled_, tty_;
  bool drawn_ = false;
};

std::string format_duration(double seconds);

}  // namespace lmul::train
