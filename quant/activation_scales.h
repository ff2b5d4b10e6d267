// The static activation scales of an integer-only GPT: one float32 scale per quantisation point,
// calibrated as I-ViT's QuantAct does (QM:100-206, ../shared/research/ivit_integer_ops.md §4):
// the first batch sets a running min and max, every later one moves them by an EMA with momentum
// 0.95, and scale = max(−min, max)/(2^(b−1) − 1), at least 2^−23. Unlike the I-ViT code (whose
// ranges are plain attributes, lost on reload) the scales are saved: a calibration safetensors
// file beside the checkpoint (train/integer_only.h), one F32 scalar per point.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lmul::quant {

inline constexpr float kRangeMomentum = 0.95f;

// One QuantAct: the running range and the bit width of the integers it produces.
struct RangeObserver {
  int bits = 8;
  bool seen = false;
  float lo = 0, hi = 0;
  void observe(float batch_min, float batch_max);
  float scale() const;  // max(−lo, hi)/(2^(bits−1) − 1), ≥ 2^−23
};

// Per block: ln_1 (8), q, k, v (8), score (8; the attention logits q·k/√hs over the causal
// positions), attn (8; the heads' output), res_attn (16; the residual after the attention),
// ln_2 (8), fc (8; the MLP's pre-activation), gelu (8; its output, unused by a ReLU model),
// res_mlp (16; the residual after the MLP).
struct LayerScales {
  float ln_1 = 0, q = 0, k = 0, v = 0, score = 0, attn = 0, res_attn = 0, ln_2 = 0, fc = 0, gelu = 0, res_mlp = 0;
};

struct ActivationScales {
  float embed = 0;  // the first residual (token + position embedding), 16-bit
  std::vector<LayerScales> layers;
  float ln_f = 0;
};

// Every point once, in graph order: its name in the calibration file ("embed", "h.0.ln_1", ...,
// "ln_f"), its bit width and the scale.
struct ScalePoint {
  std::string name;
  int bits;
  float* scale;
};
std::vector<ScalePoint> scale_points(ActivationScales& s);

// The calibration file: the scales as F32 scalars under their point names, and `metadata` (what
// they were calibrated on) plus format = lmul-integer-calibration, version, n_layer.
void save_scales(const std::string& path, const ActivationScales& s, std::map<std::string, std::string> metadata);

struct LoadedScales {
  ActivationScales scales;
  std::map<std::string, std::string> metadata;
};
// Throws lmul::Error naming the file and the fix for a file that is not a calibration, another
// number of layers, a missing point or a scale that is not finite and positive.
LoadedScales load_scales(const std::string& path, int64_t n_layer);

}  // namespace lmul::quant
