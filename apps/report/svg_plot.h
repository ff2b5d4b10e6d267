// A small line-plot renderer: panels of x/y series side by side, nice-number axes, grid lines,
// a legend below, as one standalone SVG (inline styles, system fonts, nothing fetched).
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace lmul::report {

struct Series {
  std::vector<double> x, y;  // NaN y values break the line
  std::string color = "#000000";
  double width = 1.5;        // stroke width, px
  double opacity = 1.0;
  std::string dash;          // SVG stroke-dasharray, "" for solid
  bool markers = false;      // a dot at every point
  std::string name;          // for the tooltip (<title>)
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
};

struct Figure {
  std::string title;
  std::vector<Panel> panels;    // drawn left to right
  std::vector<LegendEntry> legend;
  bool log_y = false;
  int width = 1100;             // px; the height follows from the panels and the legend
  int panel_height = 380;
};

std::string render_svg(const Figure& figure);

// Text made safe for SVG/HTML content and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace lmul::report
