// Nice-number axes for the loss plots.
#include "apps/report/axis_ticks.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace lmul::report {

double nice_number(double x, bool round) {
  const double exponent = std::floor(std::log10(x));
  const double fraction = x / std::pow(10.0, exponent);  // in [1, 10)
  double nice;
  if (round)
    nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else
    nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * std::pow(10.0, exponent);
}

namespace {

// Ticks from lo to hi (both multiples of step), computed by index so no error accumulates.
std::vector<double> ticks_between(double lo, double hi, double step) {
  std::vector<double> ticks;
  const auto n = static_cast<long>(std::llround((hi - lo) / step));
  for (long i = 0; i <= n; ++i) ticks.push_back(lo + static_cast<double>(i) * step);
  return ticks;
}

int decimals_for(double step) { return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))); }

}  // namespace

Axis linear_axis(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
  const double range = nice_number(hi - lo, false);
  const double step = nice_number(range / std::max(1, max_ticks - 1), true);
  Axis axis;
  axis.lo = std::floor(lo / step + 1e-9) * step;
  axis.hi = std::ceil(hi / step - 1e-9) * step;
  axis.ticks = ticks_between(axis.lo, axis.hi, step);
  axis.decimals = decimals_for(step);
  return axis;
}

Axis log_axis(double lo, double hi, int max_ticks) {
  if (!(lo > 0) || !std::isfinite(hi) || hi < lo) {
    Axis a = linear_axis(lo, hi, max_ticks);
    return a;  // not plottable on a log scale: fall back to linear
  }
  Axis axis;
  axis.log = true;
  if (hi / lo >= 10) {
    // Whole decades, each with 1, 2, 5 × 10^k ticks (1 only when there are many decades).
    const double d_lo = std::floor(std::log10(lo) + 1e-9), d_hi = std::ceil(std::log10(hi) - 1e-9);
    axis.lo = std::pow(10.0, d_lo);
    axis.hi = std::pow(10.0, d_hi);
    const bool sparse = d_hi - d_lo > 3;
    for (double d = d_lo; d <= d_hi; ++d)
      for (double m : {1.0, 2.0, 5.0})
        if ((m == 1.0 || !sparse) && m * std::pow(10.0, d) <= axis.hi * (1 + 1e-9))
          axis.ticks.push_back(m * std::pow(10.0, d));
    axis.decimals = std::max(0, static_cast<int>(-d_lo));
    return axis;
  }
  // Less than a decade: nice linear ticks, but the range itself is the data's (ticks inside it),
  // widened by a little so the lines do not touch the frame.
  const Axis lin = linear_axis(lo, hi, max_ticks);
  const double step = lin.ticks.size() > 1 ? lin.ticks[1] - lin.ticks[0] : hi - lo;
  axis.lo = std::max(lo / std::pow(hi / lo, 0.03), lin.lo > 0 ? lin.lo : lo);
  axis.hi = std::min(hi * std::pow(hi / lo, 0.03), lin.hi);
  axis.lo = std::min(axis.lo, lo);
  axis.hi = std::max(axis.hi, hi);
  for (double t : lin.ticks)
    if (t >= axis.lo * (1 - 1e-9) && t <= axis.hi * (1 + 1e-9) && t > 0) axis.ticks.push_back(t);
  axis.decimals = decimals_for(step);
  return axis;
}

double axis_fraction(const Axis& axis, double value) {
  if (axis.log) return (std::log10(value) - std::log10(axis.lo)) / (std::log10(axis.hi) - std::log10(axis.lo));
  return (value - axis.lo) / (axis.hi - axis.lo);
}

std::string tick_label(const Axis& axis, double value) {
  // Step counts: 2000 → "2k", 12500 → "12.5k" keep the x labels short.
  if (axis.decimals == 0 && std::abs(value) >= 10000 && std::fmod(value, 100) == 0)
    return fmt::format("{}k", value / 1000);
  if (std::abs(value) < 1e-12) value = 0;  // no "-0.0"
  return fmt::format("{:.{}f}", value, axis.decimals);
}

}  // namespace lmul::report
