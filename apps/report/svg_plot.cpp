// Rendering a Figure as SVG: one <g> per panel (frame, grid, ticks, clipped series), then the
// legend, laid out in rows that wrap at the figure's width.
#include "apps/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "apps/report/axis_ticks.h"

namespace lmul::report {

namespace {

constexpr const char* kFont = "font-family=\"'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif\"";
// Margins of a panel's plotting area inside its cell, px.
constexpr double kLeft = 62, kRight = 18, kTop = 34, kBottom = 50;
constexpr double kInset = 6;
constexpr double kTitleHeight = 40, kLegendRow = 24, kLegendTop = 6;

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

// Appends the SVG of one panel whose cell starts at (x0, y0) and is w × h.
void render_panel(std::string& out, const Panel& p, bool log_y, double x0, double y0, double w, double h, int clip_id) {
  Range xr, yr;
  for (const auto& s : p.series)
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i]) && (!log_y || s.y[i] > 0)) {
        xr.add(s.x[i]);
        if (!(s.y[i] > p.y_cap)) yr.add(s.y[i]);
      }
  if (xr.empty()) xr.add(0), xr.add(1), yr.add(0), yr.add(1);
  const Axis ax = linear_axis(std::min(0.0, xr.lo), xr.hi, 7);
  const Axis ay = log_y ? log_axis(yr.lo, yr.hi, 9) : linear_axis(yr.lo, yr.hi, 9);
  // Room left of the frame for the widest tick label ("-0.0035") and the rotated axis label.
  double tick_w = 0;
  for (double t : ay.ticks) tick_w = std::max(tick_w, text_width(tick_label(ay, t), 12));
  const double margin_left = std::max(kLeft, tick_w + 8 + 30);
  const double left = x0 + margin_left, top = y0 + kTop, pw = w - margin_left - kRight, ph = h - kTop - kBottom;
  // Data sit a few px inside the frame (as matplotlib's margins) so markers at the ends of the
  // range are not cut in half by the clip.
  const auto px = [&](double x) { return left + kInset + axis_fraction(ax, x) * (pw - 2 * kInset); };
  const auto py = [&](double y) { return top + kInset + (1 - axis_fraction(ay, y)) * (ph - 2 * kInset); };

  out += fmt::format(
      "<g class=\"panel\">\n<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"14\" font-weight=\"600\" "
      "text-anchor=\"middle\">{}</text>\n",
      left + pw / 2, y0 + 20, xml_escape(p.title));
  out += fmt::format(
      "<clipPath id=\"clip{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/></clipPath>\n",
      clip_id, left, top, pw, ph);
  // Grid and ticks.
  for (double t : ax.ticks) {
    const double x = px(t);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e3e3e3\" stroke-width=\"1\"/>\n",
        x, top, top + ph);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\" stroke-width=\"1\"/>\n", x,
        top + ph, top + ph + 5);
    out +=
        fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n",
                    x, top + ph + 19, tick_label(ax, t));
  }
  for (double t : ay.ticks) {
    const double y = py(t);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e3e3e3\" stroke-width=\"1\"/>\n",
        left, y, left + pw);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#333\" stroke-width=\"1\"/>\n",
        left - 5, y, left);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
                       left - 8, y + 4, tick_label(ay, t));
  }
  // Series, clipped to the plotting area; a NaN or non-positive (log) value breaks the line.
  out += fmt::format(
      "<g clip-path=\"url(#clip{})\" fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n", clip_id);
  for (const auto& s : p.series) {
    const std::string style = fmt::format("stroke=\"{}\" stroke-width=\"{:.2f}\"{}{}", s.color, s.width,
                                          s.opacity < 1 ? fmt::format(" stroke-opacity=\"{:.2f}\"", s.opacity) : "",
                                          s.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", s.dash));
    std::string points;
    const auto flush = [&] {
      if (!points.empty())
        out += fmt::format("<polyline class=\"series\" {} points=\"{}\"><title>{}</title></polyline>\n", style, points,
                           xml_escape(s.name));
      points.clear();
    };
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (log_y && s.y[i] <= 0)) {
        flush();
        continue;
      }
      points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", px(s.x[i]), py(s.y[i]));
    }
    flush();
    if (s.markers)
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i]) && (!log_y || s.y[i] > 0))
          out += marker_svg(s.marker, px(s.x[i]), py(s.y[i]), 1.2 + s.width, s.color, s.opacity) + "\n";
  }
  out += "</g>\n";
  // Frame on top of the lines, then the axis labels.
  out += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333\" "
      "stroke-width=\"1\"/>\n",
      left, top, pw, ph);
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\">{}</text>\n",
                     left + pw / 2, top + ph + 40, xml_escape(p.x_label));
  out += fmt::format(
      "<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">{}</text>\n",
      x0 + 16, top + ph / 2, xml_escape(p.y_label));
  out += "</g>\n";
}

// Legend entries laid out in rows; returns the rows' height and appends the SVG at y0.
double render_legend(std::string& out, const std::vector<LegendEntry>& legend, double width, double y0) {
  constexpr double kSample = 30, kGap = 8, kPad = 26, kMargin = 20;
  double x = kMargin, y = y0 + kLegendRow / 2;
  double height = legend.empty() ? 0 : kLegendRow;
  for (const auto& e : legend) {
    const double w = kSample + kGap + text_width(e.label, 13) + kPad;
    if (x > kMargin && x + w > width - kMargin) x = kMargin, y += kLegendRow, height += kLegendRow;
    out += fmt::format(
        "<g class=\"legend-entry\"><line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"{:.2f}\" stroke-opacity=\"{:.2f}\"{}/>",
        x, y, x + kSample, y, e.color, e.width, e.opacity,
        e.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", e.dash));
    if (e.marker) out += marker_svg(e.shape, x + kSample / 2, y, 1.2 + e.width, e.color);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\">{}</text></g>\n", x + kSample + kGap, y + 4.5,
                       xml_escape(e.label));
    x += w;
  }
  return height;
}

}  // namespace

double text_width(const std::string& s, double font_px) {
  size_t chars = 0;
  for (unsigned char ch : s) chars += (ch & 0xC0) != 0x80;
  return static_cast<double>(chars) * font_px * 0.57;
}

std::string marker_svg(Marker shape, double x, double y, double r, const std::string& color, double opacity) {
  const std::string paint = fmt::format("fill=\"{}\"{} stroke=\"white\" stroke-width=\"0.8\"", color,
                                        opacity < 1 ? fmt::format(" fill-opacity=\"{:.2f}\"", opacity) : "");
  const auto polygon = [&](std::initializer_list<std::pair<double, double>> pts) {
    std::string p;
    for (const auto& [dx, dy] : pts) p += fmt::format("{}{:.1f},{:.1f}", p.empty() ? "" : " ", x + dx * r, y + dy * r);
    return fmt::format("<polygon class=\"marker\" points=\"{}\" {}/>", p, paint);
  };
  // Shapes of about equal area, so none looks heavier than the others.
  switch (shape) {
    case Marker::square:
      return polygon({{-0.9, -0.9}, {0.9, -0.9}, {0.9, 0.9}, {-0.9, 0.9}});
    case Marker::triangle:
      return polygon({{0, -1.25}, {1.15, 0.8}, {-1.15, 0.8}});
    case Marker::triangle_down:
      return polygon({{0, 1.25}, {1.15, -0.8}, {-1.15, -0.8}});
    case Marker::diamond:
      return polygon({{0, -1.25}, {1.25, 0}, {0, 1.25}, {-1.25, 0}});
    case Marker::cross:
      return polygon({{-0.35, -1.1},
                      {0.35, -1.1},
                      {0.35, -0.35},
                      {1.1, -0.35},
                      {1.1, 0.35},
                      {0.35, 0.35},
                      {0.35, 1.1},
                      {-0.35, 1.1},
                      {-0.35, 0.35},
                      {-1.1, 0.35},
                      {-1.1, -0.35},
                      {-0.35, -0.35}});
    case Marker::circle:
      break;
  }
  return fmt::format("<circle class=\"marker\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{:.1f}\" {}/>", x, y, r, paint);
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string render_svg(const Figure& f) {
  const double cell_w = static_cast<double>(f.width) / static_cast<double>(std::max<size_t>(1, f.panels.size()));
  std::string body;
  for (size_t i = 0; i < f.panels.size(); ++i)
    render_panel(body, f.panels[i], f.log_y && !f.panels[i].linear_y, cell_w * static_cast<double>(i), kTitleHeight,
                 cell_w, f.panel_height, static_cast<int>(i));
  const double legend_h = render_legend(body, f.legend, f.width, kTitleHeight + f.panel_height + kLegendTop);
  const double height = kTitleHeight + f.panel_height + kLegendTop + legend_h + 12;
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1:.0f}\" viewBox=\"0 0 {0} {1:.0f}\" {2} "
      "fill=\"#111\">\n",
      f.width, height, kFont);
  out += fmt::format("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
  out +=
      fmt::format("<text x=\"{:.1f}\" y=\"26\" font-size=\"17\" font-weight=\"600\" text-anchor=\"middle\">{}</text>\n",
                  f.width / 2.0, xml_escape(f.title));
  out += body;
  out += "</svg>\n";
  return out;
}

}  // namespace lmul::report
