#include "quant/activation_scales.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/safetensors.h"

namespace lmul::quant {

namespace {
constexpr const char* kFormat = "lmul-integer-calibration";
constexpr const char* kVersion = "1";
}  // namespace

void RangeObserver::observe(float batch_min, float batch_max) {
  if (!seen) {
    lo = batch_min, hi = batch_max, seen = true;
    return;
  }
  lo = kRangeMomentum * lo + (1.0f - kRangeMomentum) * batch_min;
  hi = kRangeMomentum * hi + (1.0f - kRangeMomentum) * batch_max;
}

float RangeObserver::scale() const {
  const float amax = std::max(-lo, hi);
  return std::max(amax / static_cast<float>((int64_t{1} << (bits - 1)) - 1), 0x1p-23f);
}

std::vector<ScalePoint> scale_points(ActivationScales& s) {
  std::vector<ScalePoint> p{{"embed", 16, &s.embed}};
  for (size_t l = 0; l < s.layers.size(); ++l) {
    LayerScales& L = s.layers[l];
    const std::string h = "h." + std::to_string(l) + ".";
    for (auto [name, bits, ptr] : {std::tuple{"ln_1", 8, &L.ln_1},
                                   {"q", 8, &L.q},
                                   {"k", 8, &L.k},
                                   {"v", 8, &L.v},
                                   {"score", 8, &L.score},
                                   {"attn", 8, &L.attn},
                                   {"res_attn", 16, &L.res_attn},
                                   {"ln_2", 8, &L.ln_2},
                                   {"fc", 8, &L.fc},
                                   {"gelu", 8, &L.gelu},
                                   {"res_mlp", 16, &L.res_mlp}})
      p.push_back({h + name, bits, ptr});
  }
  p.push_back({"ln_f", 8, &s.ln_f});
  return p;
}

void save_scales(const std::string& path, const ActivationScales& s, std::map<std::string, std::string> metadata) {
  ActivationScales copy = s;
  const std::vector<ScalePoint> points = scale_points(copy);
  std::vector<SafetensorsOut> tensors;
  for (const ScalePoint& p : points) tensors.push_back(f32_tensor(p.name, {1}, {p.scale, 1}));
  // insert_or_assign with std::string values: GCC 12 warns (-Wrestrict, a false positive) on
  // assigning a string literal to a map element.
  metadata.insert_or_assign("format", std::string(kFormat));
  metadata.insert_or_assign("version", std::string(kVersion));
  metadata.insert_or_assign("n_layer", std::to_string(s.layers.size()));
  save_safetensors(path, tensors, metadata);
}

LoadedScales load_scales(const std::string& path, int64_t n_layer) {
  const SafetensorsFile f = SafetensorsFile::load(path);
  const auto meta = [&](const char* k) {
    const auto it = f.metadata().find(k);
    return it == f.metadata().end() ? std::string() : it->second;
  };
  if (meta("format") != kFormat)
    throw Error("{}: not an lmul integer calibration file (delete it; lmul eval RUN --integer-only writes a new one)",
                path);
  if (meta("version") != kVersion)
    throw Error(
        "{}: calibration format version {} (this build reads {}); recalibrate with lmul eval RUN --integer-only", path,
        meta("version"), kVersion);
  if (meta("n_layer") != std::to_string(n_layer))
    throw Error("{}: calibrated for n_layer={}, the model has {}; recalibrate with lmul eval RUN --integer-only", path,
                meta("n_layer"), n_layer);
  LoadedScales out;
  out.scales.layers.resize(static_cast<size_t>(n_layer));
  const Shape one{1};
  for (const ScalePoint& p : scale_points(out.scales)) {
    if (!f.has(p.name)) throw Error("{}: no scale '{}'; recalibrate with lmul eval RUN --integer-only", path, p.name);
    const float v = f.f32(p.name, &one)[0];
    if (!(v > 0.0f) || !std::isfinite(v))
      throw Error("{}: scale '{}' = {} must be finite and positive; recalibrate with lmul eval RUN --integer-only",
                  path, p.name, v);
    *p.scale = v;
  }
  out.metadata = f.metadata();
  return out;
}

}  // namespace lmul::quant
