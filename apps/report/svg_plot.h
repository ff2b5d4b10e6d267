// A small line-plot renderer: panels of x/y series side by side, nice-number axes, grid lines,
// a legend below, as one standalone SVG (inline styles, system fonts, nothing fetched).
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace lmul::report {

// Marker shapes, so that curves of one colour (one family) can still be told apart.
enum class Marker { circle, square, triangle, diamond, triangle_down, cross };

struct Series {
  std::vector<double> x, y;  // NaN y values break the line
  std::string color = "#000000";
  double width = 1.5;  // stroke width, px
  double opacity = 1.0;
  std::string dash;      // SVG stroke-dasharray, "" for solid
  bool markers = false;  // a marker at every point
  Marker marker = Marker::circle;
  std::string name;  // for the tooltip (<title>)
};

struct Panel {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  // Values above it are drawn but left out of the y range (they leave the frame); NaN: none.
  double y_cap = std::numeric_limits<double>::quiet_NaN();
  bool linear_y = false;  // a linear y axis even when the figure's is logarithmic (differences)
};

struct LegendEntry {
  std::string label;
  std::string color = "#000000";
  double width = 2;
  double opacity = 1.0;
  std::string dash;
  bool marker = false;
  Marker shape = Marker::circle;
};

struct Figure {
  std::string title;
  std::vector<Panel> panels;  // drawn left to right
  std::vector<LegendEntry> legend;
  bool log_y = false;
  int width = 1100;  // px; the height follows from the panels and the legend
  int panel_height = 380;
};

std::string render_svg(const Figure& figure);

// One marker centred on (x, y), r its half-size in px, filled with color (white outline).
std::string marker_svg(Marker shape, double x, double y, double r, const std::string& color, double opacity = 1.0);

// Rough width of text at a font size for layout (DejaVu Sans averages ~0.57 em per character).
double text_width(const std::string& text, double font_px);

// Text made safe for SVG/HTML content and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace lmul::report
