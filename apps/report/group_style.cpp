// Styles per family and member.
#include "apps/report/group_style.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace lmul::report {

namespace {

// Known families keep their hue in every report, so a reader learns it once.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kFamilyColors = {{{"exact", "#1A1A1A"},
                                                                                         {"L-Mul", "#0072B2"},
                                                                                         {"fp8", "#D55E00"},
                                                                                         {"PoT", "#009E73"},
                                                                                         {"int", "#CC79A7"},
                                                                                         {"ternary", "#E69F00"},
                                                                                         {"float", "#7F3C8D"}}};
// Families this version does not know (new formats) take these, in order of appearance.
constexpr std::array<std::string_view, 5> kExtraColors = {"#8C564B", "#6B8E23", "#B22222", "#17BECF", "#7F7F7F"};

// Member k of a family: marker and shade cycle together; the dash advances one more every full
// cycle, so (marker, dash) pairs stay distinct up to 36 members.
constexpr std::array<Marker, 6> kMarkers = {Marker::circle,  Marker::square,        Marker::triangle,
                                            Marker::diamond, Marker::triangle_down, Marker::cross};
constexpr std::array<std::string_view, 6> kDashes = {"", "8 4", "1.5 3.5", "10 3 2 3", "4 3", "14 3 3 3 3 3"};
// Lightness shifts: negative darkens towards black, positive lightens towards white, kept small
// enough that a shade still reads as its family's hue and stays visible on white.
constexpr std::array<double, 6> kShades = {0.0, -0.32, 0.3, -0.18, 0.45, 0.15};

std::string shade(std::string_view hex, double t) {
  unsigned rgb = 0;
  for (char ch : hex.substr(1)) rgb = rgb * 16 + static_cast<unsigned>(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
  const auto channel = [&](int shift) {
    const double v = static_cast<double>((rgb >> shift) & 0xFF);
    return static_cast<int>(std::lround(t < 0 ? v * (1 + t) : v + (255 - v) * t));
  };
  return fmt::format("#{:02X}{:02X}{:02X}", channel(16), channel(8), channel(0));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> family_colors(const Comparison& c) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t extra = 0;
  for (const auto& g : c.groups) {
    if (std::any_of(out.begin(), out.end(), [&](const auto& f) { return f.first == g.family; })) continue;
    const auto known =
        std::find_if(kFamilyColors.begin(), kFamilyColors.end(), [&](const auto& f) { return f.first == g.family; });
    out.emplace_back(g.family,
                     known != kFamilyColors.end() ? known->second : kExtraColors[extra++ % kExtraColors.size()]);
  }
  return out;
}

std::vector<GroupStyle> group_styles(const Comparison& c) {
  const auto families = family_colors(c);
  std::vector<GroupStyle> out;
  for (size_t gi = 0; gi < c.groups.size(); ++gi) {
    const std::string& family = c.groups[gi].family;
    size_t k = 0;  // members of the family before this group
    for (size_t j = 0; j < gi; ++j) k += c.groups[j].family == family;
    const auto base = std::find_if(families.begin(), families.end(), [&](const auto& f) { return f.first == family; });
    const size_t cycle = k / kMarkers.size();
    out.push_back({shade(base->second, kShades[k % kShades.size()]), std::string(kDashes[(k + cycle) % kDashes.size()]),
                   kMarkers[k % kMarkers.size()]});
  }
  return out;
}

std::string style_swatch_svg(const GroupStyle& style) {
  return fmt::format(
      "<svg class=\"swatch\" width=\"34\" height=\"14\" viewBox=\"0 0 34 14\">"
      "<line x1=\"1\" y1=\"7\" x2=\"33\" y2=\"7\" stroke=\"{}\" stroke-width=\"2.2\" "
      "stroke-linecap=\"round\"{}/>{}</svg>",
      style.color, style.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", style.dash),
      marker_svg(style.marker, 17, 7, 4.2, style.color));
}

}  // namespace lmul::report
