// The explicit table of number formats (not self-registering statics: a static library drops
// object files nothing references). One row per format; also `lmul numerics --list`.
#include <array>

#include "core/arith/arith.h"
#include "core/arith/formats.h"
#include "core/error.h"

namespace lmul::arith {

namespace {
const std::array kFormats = {
    FormatInfo{"exact", "fp32 products (OpenBLAS sgemm)", &make_exact},
    FormatInfo{"float",
               "float:e=E,m=M[,round=nearest|stochastic] IEEE-like float, E 2..8, M 1..23: bias "
               "2^(E-1)-1, subnormals, saturating (Inf -> max, NaN kept); all roles",
               &make_float},
    FormatInfo{"bf16", "bf16[:round=nearest|stochastic] = float:e=8,m=7", &make_bf16},
    FormatInfo{"fp16", "fp16[:round=nearest|stochastic] = float:e=5,m=10", &make_fp16},
    FormatInfo{"fp8",
               "fp8:e4m3|e5m2|hybrid[,scale=none|current|delayed][,history=1024][,margin=0]"
               "[,round=nearest|stochastic] OCP OFP8 E4M3FN (max 448) / E5M2 (max 57344), "
               "saturating, NaN kept; hybrid: E5M2 gradients; power-of-two per-tensor scales",
               &make_fp8},
    FormatInfo{"lmul",
               "lmul:m=M[,variant=bits|formula][,round=rne|trunc] L-Mul (Luo & Sun 2024), M 1..23: "
               "operands reduced to M mantissa bits; bits = integer add of the patterns (paper's "
               "simulation), formula = (1+xm+ym+2^-l)2^(ex+ey); zero->0, NaN/Inf propagate, "
               "underflow->0, overflow->Inf",
               &make_lmul},
    FormatInfo{"pot",
               "pot:b=B[,eps=0][,round=log|ceil|linear][,gran=tensor|channel] power-of-two "
               "weights (arXiv 2506.00315), B 2..8: s=max(max|W|/2^R,eps), w=s*sign(q)*2^round(log2|q|);"
               " activations and gradients fp32; NaN kept, Inf clamped",
               &make_pot},
    FormatInfo{"int",
               "int:b=8[,w=B][,a=B][,gran=tensor|channel|group][,g=128][,round=nearest|stochastic] "
               "symmetric integer, B 2..16, scale=max|x|/(2^(B-1)-1) per tensor/row/group; "
               "gradients fp32; NaN kept, Inf clamped",
               &make_int},
    FormatInfo{"ternary",
               "ternary[:act=int8|fp32] BitNet b1.58: weights {-1,0,1}*max(mean|W|,1e-5); "
               "activations per-token absmax int8; gradients fp32; NaN kept, Inf clamped",
               &make_ternary},
};
}  // namespace

std::span<const FormatInfo> formats() { return kFormats; }

std::unique_ptr<Multiplier> make_multiplier(std::string_view spec, uint64_t seed) {
  std::string_view name = spec.substr(0, spec.find(':'));
  std::string_view options =
      spec.find(':') == std::string_view::npos ? std::string_view{} : spec.substr(spec.find(':') + 1);
  for (const auto& f : kFormats)
    if (name == f.name) return f.make(options, seed);
  std::string names;
  for (const auto& f : kFormats) names += (names.empty() ? "" : ", ") + std::string(f.name);
  throw Error("arith spec '{}': unknown format '{}' (known: {})", spec, name, names);
}

}  // namespace lmul::arith
