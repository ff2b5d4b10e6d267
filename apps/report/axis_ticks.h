// Axis ranges and tick marks that read well: "nice numbers" (Heckbert, "Nice numbers for graph
// labels", Graphics Gems, 1990) — steps of 1, 2 or 5 × 10^k, range widened to whole ticks.
#pragma once
#include <string>
#include <vector>

namespace lmul::report {

struct Axis {
  double lo = 0, hi = 1;      // the plotted range (data range widened to nice ticks)
  std::vector<double> ticks;  // values to mark and label, lo ≤ t ≤ hi
  int decimals = 0;           // digits after the point that tell the ticks apart
  bool log = false;           // positions are log10(value)
};

// A nice number near x: 1, 2, 5 or 10 × 10^k; round picks the nearest, else the one ≥ x.
double nice_number(double x, bool round);

// Linear axis over [lo, hi] with about max_ticks ticks. A zero-width range is widened around
// its value; the plotted range ends on ticks.
Axis linear_axis(double lo, double hi, int max_ticks = 6);

// Logarithmic axis over [lo, hi] (lo > 0): decades with 1-2-5 ticks when the range spans more
// than one decade, else nice linear ticks placed logarithmically (a loss from 1.4 to 4.2 still
// gets 1.5, 2.0, 2.5, ...).
Axis log_axis(double lo, double hi, int max_ticks = 6);

// Where value lies on the axis, 0 at lo and 1 at hi.
double axis_fraction(const Axis& axis, double value);

// A tick label with the axis' decimals; large values as "2k", "10k".
std::string tick_label(const Axis& axis, double value);

}  // namespace lmul::report
