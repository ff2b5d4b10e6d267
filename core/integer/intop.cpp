#include "core/integer/intop.h"

#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/integer/dyadic.h"
#include "core/integer/ilayernorm.h"
#include "core/integer/int_exp.h"
#include "core/integer/shiftgelu.h"
#include "core/integer/shiftmax.h"

namespace lmul::integer {

namespace {

template <typename T>
std::string join(const std::vector<T>& row) {
  return fmt::format("{}\n", fmt::join(row, " "));
}

int output_bits(const IntopRequest& r) {
  const int b = r.bits.value_or(8);
  if (b < 2 || b > 16) throw Error("numerics intop {}: --bits {} is out of range (2 to 16)", r.op, b);
  return b;
}

float required_scale(const IntopRequest& r) {
  if (!r.scale) throw Error("numerics intop {}: --scale S (the input scale) is required", r.op);
  return *r.scale;
}

void reject(bool given, const IntopRequest& r, const char* option) {
  if (given) throw Error("numerics intop {}: {} does not apply to this op", r.op, option);
}

std::string run_shiftmax(const IntopRequest& r, const std::vector<std::vector<int32_t>>& rows) {
  const int b = output_bits(r);
  const int64_t x0 = exp_shift_x0(required_scale(r), "shiftmax");
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto N = static_cast<int64_t>(rows[i].size());
    const int64_t kept = r.causal ? std::min<int64_t>(N, static_cast<int64_t>(i) + 1) : N;
    check_shiftmax_range(x0, kept, kShiftmaxN, "shiftmax");
    std::vector<int32_t> y(rows[i].size());
    shiftmax_row(rows[i], kept, x0, kShiftmaxN, b, MaskMode::exclude, y);
    out += join(y);
  }
  return out + fmt::format("scale {}\n", 1.0f / static_cast<float>(1 << (b - 1)));
}

std::string run_shiftgelu(const IntopRequest& r, const std::vector<std::vector<int32_t>>& rows) {
  const int b = output_bits(r);
  const float s = required_scale(r);
  const int64_t x0 = shiftgelu_x0(s);
  check_shiftgelu_range(x0, kShiftGeluN);
  std::string out;
  for (const auto& row : rows) {
    std::vector<int64_t> y(row.size());
    shiftgelu_row(row, x0, kShiftGeluN, b, y);
    out += join(y);
  }
  return out + fmt::format("scale {}\n", shiftgelu_scale_out(s, b));
}

std::vector<float> per_channel(const std::vector<float>& v, size_t C, float fallback, const char* option) {
  if (v.empty()) return std::vector<float>(C, fallback);
  if (v.size() == 1) return std::vector<float>(C, v[0]);
  if (v.size() != C)
    throw Error("numerics intop ilayernorm: {} has {} values for {} channels (give 1 or {})", option, v.size(), C, C);
  return v;
}

std::string run_ilayernorm(const IntopRequest& r, const std::vector<std::vector<int32_t>>& rows) {
  reject(r.bits.has_value(), r, "--bits");
  size_t C = rows.empty() ? std::max(r.weight.size(), r.bias.size()) : rows[0].size();
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].size() != C)
      throw Error(
          "numerics intop ilayernorm: stdin line {} has {} values, the first row {} (one "
          "channel count for all rows)",
          i + 1, rows[i].size(), C);
  if (C == 0) return "scale\n";
  const auto k =
      ilayernorm_constants(per_channel(r.weight, C, 1.0f, "--weight"), per_channel(r.bias, C, 0.0f, "--bias"));
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int32_t v : rows[i])
      if (v < -kILayerNormMaxAbsInput || v > kILayerNormMaxAbsInput)
        throw Error(
            "numerics intop ilayernorm: stdin row {}: {} is outside ±2^23, I-LayerNorm's "
            "input range",
            i + 1, v);
    std::vector<int64_t> y(C);
    ilayernorm_row(rows[i], k.bias_int, y);
    out += join(y);
  }
  return out + fmt::format("scale {}\n", fmt::join(k.scale_out, " "));
}

std::string run_requant(const IntopRequest& r, const std::vector<std::vector<int32_t>>& rows) {
  if (!r.multiplier) throw Error("numerics intop requant: --multiplier M is required");
  if (r.bits && (*r.bits < 2 || *r.bits > 32))
    throw Error("numerics intop requant: --bits {} is out of range (2 to 32)", *r.bits);
  const Dyadic d = dyadic(*r.multiplier);
  std::string out = fmt::format("{} {}\n", d.m, d.e);
  for (const auto& row : rows) {
    std::vector<int64_t> y;
    for (int32_t v : row) y.push_back(r.bits ? clamp_bits(requant(v, d), *r.bits) : requant(v, d));
    out += join(y);
  }
  const float s_in = r.scale.value_or(1.0f);
  return out + fmt::format("scale {}\n", static_cast<float>(static_cast<double>(s_in) / *r.multiplier));
}

}  // namespace

std::vector<std::vector<int32_t>> read_integer_rows(std::istream& in, std::string_view what) {
  std::vector<std::vector<int32_t>> rows;
  std::string line, w;
  for (int64_t no = 1; std::getline(in, line); ++no) {
    std::istringstream words(line);
    std::vector<int32_t> row;
    while (words >> w) {
      std::string_view s = w;
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      int32_t v = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc::result_out_of_range) throw Error("{} line {}: {} is outside the int32 range", what, no, w);
      if (ec != std::errc() || end != s.data() + s.size())
        throw Error("{} line {}: '{}' is not an integer (rows of space-separated integers)", what, no, w);
      row.push_back(v);
    }
    if (!row.empty()) rows.push_back(std::move(row));
  }
  return rows;
}

template <typename T>
T parse_number(std::string_view text, std::string_view option) {
  std::string_view w = text;
  if (!w.empty() && w.front() == '+') w.remove_prefix(1);
  T x = 0;
  const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), x);
  if (w.empty() || ec != std::errc() || end != w.data() + w.size())
    throw Error("numerics intop: {} '{}' is not a number", option, text);
  return x;
}
template float parse_number<float>(std::string_view, std::string_view);
template double parse_number<double>(std::string_view, std::string_view);

std::vector<float> parse_float_list(std::string_view text, std::string_view option) {
  std::vector<float> v;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view w = text.substr(start, comma - start);
    try {
      v.push_back(parse_number<float>(w, option));
    } catch (const Error&) {
      throw Error("numerics intop: {} '{}': '{}' is not a number (comma-separated numbers)", option, text, w);
    }
    start = comma + 1;
  }
  return v;
}

std::string run_intop(const IntopRequest& r, std::istream& in) {
  if (r.op != "shiftmax" && r.op != "shiftgelu" && r.op != "ilayernorm" && r.op != "requant")
    throw Error("numerics intop: unknown op '{}' (choose shiftmax|shiftgelu|ilayernorm|requant)", r.op);
  reject(r.causal && r.op != "shiftmax", r, "--causal");
  reject((!r.weight.empty() || !r.bias.empty()) && r.op != "ilayernorm", r, "--weight/--bias");
  reject(r.multiplier.has_value() && r.op != "requant", r, "--multiplier");
  const auto rows = read_integer_rows(in, fmt::format("numerics intop {}: stdin", r.op));
  if (r.op == "shiftmax") return run_shiftmax(r, rows);
  if (r.op == "shiftgelu") return run_shiftgelu(r, rows);
  if (r.op == "ilayernorm") return run_ilayernorm(r, rows);
  return run_requant(r, rows);
}

}  // namespace lmul::integer
