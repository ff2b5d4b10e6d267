// A live progress line on stderr: "\r" updates on a terminal, a plain line now and then otherwise.
#pragma once
#include <cstdint>
#include <string>

namespace lmul::apps {

class Progress {
 public:
  Progress(int64_t total, bool enabled);
  // Redraws with the given status text; eta from the mean seconds per unit so far.
  void update(int64_t done, const std::string& status, double seconds_per_unit);
  void finish();
  // Prints a full line (e.g. an eval result) without breaking the progress line.
  void line(const std::string& text);

 private:
  int64_t total_;
  bool enabled_, tty_;
  int64_t last_plain_ = -1;
  bool drawn_ = false;
};

std::string format_duration(double seconds);

}  // namespace lmul::apps
