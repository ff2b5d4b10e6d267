// Building and drawing the Δ summary figure.
#include "apps/report/delta_figure.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "apps/report/axis_ticks.h"
#include "apps/report/svg_plot.h"

namespace lmul::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kFont = "font-family=\"'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif\"";
// Layout, px.
constexpr double kMargin = 16, kTitleH = 56, kHeaderH = 26, kRowH = 24, kAxisH = 46, kLegendRowH = 22;
constexpr double kMaxLabelW = 360, kPanelW = 380, kValueW = 132, kGap = 14, kMarkerR = 5.2;

// The Δ of a group as the table gives it (same-seed pairs when there are at least two).
DeltaValue delta_value(const std::optional<double>& means_delta, const Stat& paired) {
  DeltaValue v;
  if (paired.n >= 2 && std::isfinite(paired.mean)) {
    v.mean = paired.mean, v.err = paired.std, v.n = paired.n;
  } else if (means_delta) {
    v.mean = *means_delta, v.err = kNaN;
  }
  return v;
}

// Where a row sorts: 0 finite Δ, 1 diverged, 2 no Δ.
int rank(const DeltaValue& v) { return !v.mean ? 2 : std::isnan(*v.mean) ? 1 : 0; }

bool same_value(const DeltaValue& a, const DeltaValue& b) {
  const auto eq = [](double x, double y) { return (std::isnan(x) && std::isnan(y)) || std::abs(x - y) <= 1e-12; };
  if (a.mean.has_value() != b.mean.has_value()) return false;
  return (!a.mean || eq(*a.mean, *b.mean)) && eq(a.err, b.err);
}

std::string what_was_trained(const Comparison& c) {
  if (!differing_keys(c.configs, KeyRole::setup).empty() || c.configs.front().count("dataset") == 0)
    return fmt::format("{} runs", c.runs.size());
  return fmt::format("{}, {} runs", value_text(c.configs.front(), "dataset"), c.runs.size());
}

// A label cut to fit max_w (the whole name stays in the row's tooltip).
std::string fit_label(const std::string& label, double max_w, double font_px) {
  if (text_width(label, font_px) <= max_w) return label;
  std::string out;
  for (size_t i = 0; i < label.size(); ++i) {
    if ((static_cast<unsigned char>(label[i]) & 0xC0) != 0x80 &&
        text_width(out + "…", font_px) + font_px * 0.57 > max_w)
      break;
    out += label[i];
  }
  return out + "…";
}

// One panel of rows: grid, zero line, error bars and markers, value column; the axis below.
void render_panel(std::string& out, const DeltaSummary& s, bool best, double x0, double y0) {
  const auto value_of = [&](const DeltaRow& r) -> const DeltaValue& { return best ? r.best_value : r.final_value; };
  double lo = 0, hi = 0;
  for (const auto& r : s.rows)
    if (const DeltaValue& v = value_of(r); v.mean && std::isfinite(*v.mean)) {
      const double e = std::isfinite(v.err) ? v.err : 0;
      lo = std::min(lo, *v.mean - e), hi = std::max(hi, *v.mean + e);
    }
  const Axis ax = linear_axis(lo, hi, 7);
  const double rows_h = kRowH * static_cast<double>(s.rows.size());
  const double top = y0 + kHeaderH, inset = 10;
  const auto px = [&](double x) { return x0 + inset + axis_fraction(ax, x) * (kPanelW - 2 * inset); };

  out += fmt::format(
      "<g class=\"delta-panel\">\n<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"14\" font-weight=\"600\" "
      "text-anchor=\"middle\">{} {}</text>\n",
      x0 + kPanelW / 2, y0 + 17, best ? "Best" : "Final", xml_escape(s.metric));
  for (double t : ax.ticks) {
    const double x = px(t);
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e3e3e3\"/>\n", x,
                       top, top + rows_h);
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/>\n", x,
                       top + rows_h, top + rows_h + 5);
    out += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">{}{}</text>\n", x,
        top + rows_h + 18, t > 0 ? "+" : "", tick_label(ax, t));
  }
  // The zero line: the reference. Left of it is lower than exact, right of it higher.
  out += fmt::format(
      "<line class=\"zero\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#1A1A1A\" "
      "stroke-width=\"1.3\"/>\n",
      px(0), top, top + rows_h);
  out += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333\"/>\n", x0, top,
      kPanelW, rows_h);
  const std::string arrow = s.better == Better::lower ? "← better" : "better →";
  out +=
      fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\">Δ {} vs exact ({})</text>\n",
                  x0 + kPanelW / 2, top + rows_h + 38, xml_escape(s.metric), arrow);
  for (size_t i = 0; i < s.rows.size(); ++i) {
    const DeltaRow& r = s.rows[i];
    const DeltaValue& v = value_of(r);
    const double y = top + kRowH * (static_cast<double>(i) + 0.5);
    out +=
        fmt::format("<g class=\"delta-row\"><title>{}: {}{}</title>", xml_escape(r.label), delta_text(v, r.reference),
                    v.n >= 2 ? fmt::format(" (mean ± std of {} same-seed differences)", v.n) : "");
    if (v.mean && std::isfinite(*v.mean)) {
      if (std::isfinite(v.err) && v.err > 0) {
        const double a = px(*v.mean - v.err), b = px(*v.mean + v.err);
        out += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" stroke-width=\"2\"/>"
            "<line x1=\"{0:.1f}\" y1=\"{4:.1f}\" x2=\"{0:.1f}\" y2=\"{5:.1f}\" stroke=\"{3}\" stroke-width=\"1.6\"/>"
            "<line x1=\"{1:.1f}\" y1=\"{4:.1f}\" x2=\"{1:.1f}\" y2=\"{5:.1f}\" stroke=\"{3}\" stroke-width=\"1.6\"/>",
            a, b, y, r.style.color, y - 5, y + 5);
      }
      out += marker_svg(r.style.marker, px(*v.mean), y, kMarkerR, r.style.color);
    }
    out += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" fill=\"#333\" "
        "font-family=\"'DejaVu Sans Mono', monospace\">{}</text></g>\n",
        x0 + kPanelW + 8, y + 4, delta_text(v, r.reference));
  }
  out += "</g>\n";
}

}  // namespace

std::string delta_text(const DeltaValue& v, bool reference) {
  if (reference) return "ref";
  if (!v.mean) return "—";
  if (std::isnan(*v.mean)) return "diverged";
  if (v.n >= 2 && std::isfinite(v.err)) return fmt::format("{:+.4f} ± {:.4f}", *v.mean, v.err);
  return fmt::format("{:+.4f}", *v.mean);
}

bool has_delta(const Comparison& c) {
  for (const auto& g : c.groups)
    if (g.delta && reference_group(c, g) != &g) return true;
  return false;
}

DeltaSummary delta_summary(const Comparison& c) {
  DeltaSummary s;
  s.metric = c.metric, s.better = c.better, s.families = family_colors(c);
  const std::vector<GroupStyle> styles = group_styles(c);
  bool same_n = true;
  for (const auto& g : c.groups) same_n = same_n && g.runs.size() == c.groups.front().runs.size();
  for (size_t gi = 0; gi < c.groups.size(); ++gi) {
    const RunGroup& g = c.groups[gi];
    DeltaRow r;
    r.group = gi, r.style = styles[gi];
    r.label = same_n ? g.name : fmt::format("{} (n={})", g.name, g.runs.size());
    r.reference = g.delta && reference_group(c, g) == &g;
    r.final_value = delta_value(g.delta, g.paired_delta);
    r.best_value = delta_value(g.best_delta, g.paired_best_delta);
    s.show_best = s.show_best || !same_value(r.final_value, r.best_value);
    s.rows.push_back(std::move(r));
  }
  // Best first: the most negative Δ for a loss, the most positive for an accuracy; the table
  // order breaks ties.
  const double sign = c.better == Better::lower ? 1 : -1;
  std::stable_sort(s.rows.begin(), s.rows.end(), [&](const DeltaRow& a, const DeltaRow& b) {
    const int ra = rank(a.final_value), rb = rank(b.final_value);
    if (ra != rb) return ra < rb;
    return ra == 0 && sign * *a.final_value.mean < sign * *b.final_value.mean;
  });
  s.title = fmt::format("{} minus exact, by arithmetic — {}", c.metric, what_was_trained(c));
  s.subtitle = fmt::format(
      "{}, {} is better, best first{}\nbar: ±1 std of the same-seed differences; no bar: one pair or the difference of "
      "the means",
      same_n ? fmt::format("n = {} per group", c.groups.front().runs.size()) : "n per group in the labels",
      c.better == Better::lower ? "lower" : "higher", s.show_best ? "" : "; best = final in every group");
  return s;
}

std::string render_delta_svg(const DeltaSummary& s) {
  double label_w = 80;
  for (const auto& r : s.rows) label_w = std::max(label_w, text_width(r.label, 13));
  label_w = std::min(label_w, kMaxLabelW);
  const int panels = s.show_best ? 2 : 1;
  const double panel_x0 = kMargin + label_w + kGap;
  // Subtitle lines (split at '\n'); the figure is at least as wide as its title and subtitle.
  std::vector<std::string> sub;
  for (size_t b = 0, e; b <= s.subtitle.size(); b = e + 1) {
    e = std::min(s.subtitle.find('\n', b), s.subtitle.size());
    sub.push_back(s.subtitle.substr(b, e - b));
  }
  double min_w = text_width(s.title, 17) * 1.05;
  for (const auto& line : sub) min_w = std::max(min_w, text_width(line, 12));
  const double width = std::max(panel_x0 + panels * (kPanelW + kValueW) + kMargin, min_w + 2 * kMargin);
  const double rows_h = kRowH * static_cast<double>(s.rows.size());
  const double y0 = kTitleH + 16 * static_cast<double>(sub.size() - 1);

  std::string body;
  // Row labels, and a light band on every other row to lead the eye across.
  for (size_t i = 0; i < s.rows.size(); ++i) {
    const double y = y0 + kHeaderH + kRowH * static_cast<double>(i);
    if (i % 2 == 1)
      body += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#f3f3f3\"/>\n",
                          kMargin, y, width - 2 * kMargin, kRowH);
    const DeltaRow& r = s.rows[i];
    body += fmt::format(
        "<text class=\"row-label\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"end\" "
        "fill=\"{}\"><title>{}</title>{}</text>\n",
        kMargin + label_w, y + kRowH / 2 + 4.5, r.reference ? "#111" : "#222", xml_escape(r.label),
        xml_escape(fit_label(r.label, label_w, 13)));
  }
  for (int p = 0; p < panels; ++p) render_panel(body, s, p == 1, panel_x0 + p * (kPanelW + kValueW), y0);

  // Family legend: the hue of each family (members differ by marker and shade).
  double x = kMargin, y = y0 + kHeaderH + rows_h + kAxisH + 14, legend_h = kLegendRowH;
  for (const auto& [family, color] : s.families) {
    const std::string text = family == "exact" ? "exact (fp32)" : family;
    const double w = 22 + text_width(text, 13) + 22;
    if (x > kMargin && x + w > width - kMargin) x = kMargin, y += kLegendRowH, legend_h += kLegendRowH;
    body += fmt::format(
        "<g class=\"family\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"10\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\">{}</text></g>\n",
        x, y - 5, color, x + 20, y + 4.5, xml_escape(text));
    x += w;
  }
  const double height = y0 + kHeaderH + rows_h + kAxisH + 14 + legend_h + 4;

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" "
      "{2} fill=\"#111\">\n",
      width, height, kFont);
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out +=
      fmt::format("<text x=\"{:.1f}\" y=\"24\" font-size=\"17\" font-weight=\"600\" text-anchor=\"middle\">{}</text>\n",
                  width / 2, xml_escape(s.title));
  for (size_t i = 0; i < sub.size(); ++i)
    out +=
        fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" font-size=\"12\" fill=\"#555\" text-anchor=\"middle\">{}</text>\n",
                    width / 2, 44 + 16 * static_cast<double>(i), xml_escape(sub[i]));
  out += body;
  out += "</svg>\n";
  return out;
}

std::string delta_figure_svg(const Comparison& c) { return render_delta_svg(delta_summary(c)); }

}  // namespace lmul::report
