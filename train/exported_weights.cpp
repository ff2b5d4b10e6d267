#include "train/exported_weights.h"

#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/arith/export_codec.h"
#include "core/error.h"

namespace lmul::train {

void load_export(const SafetensorsFile& f, nn::LanguageModel& model) {
  const auto& m = f.metadata();
  nlohmann::json quant = nlohmann::json::object();
  if (m.count("quant_tensors")) {
    quant = nlohmann::json::parse(m.at("quant_tensors"), nullptr, false);
    if (!quant.is_object()) throw Error("{}: corrupt export metadata (quant_tensors)", f.path());
  }
  for (auto& p : model.parameters()) {
    if (!f.has(p.name)) throw Error("{}: no tensor '{}': the export is from another model shape", f.path(), p.name);
    const auto& e = f.entry(p.name);
    const size_t n = static_cast<size_t>(p.value.numel());
    float* dst = p.value.data();
    if (!quant.contains(p.name)) {
      if (e.dtype != "F32" || e.shape != p.value.shape())
        throw Error("{}: tensor '{}' is {} {}, the model expects F32 {}", f.path(), p.name, e.dtype, shape_str(e.shape),
                    shape_str(p.value.shape()));
      std::memcpy(dst, f.bytes(p.name).data(), n * sizeof(float));
      continue;
    }
    std::unique_ptr<arith::ExportCodec> codec;
    try {
      codec = arith::make_export_codec(quant[p.name].at("format").get<std::string>());
      if (quant[p.name].at("shape").get<Shape>() != p.value.shape()) throw Error("shape differs from the model's");
    } catch (const std::exception& err) {
      throw Error("{}: tensor '{}': corrupt quantisation metadata ({})", f.path(), p.name, err.what());
    }
    const auto bytes = f.bytes(p.name);
    if (bytes.size() < codec->packed_size(n))
      throw Error("{}: tensor '{}' has {} bytes, too few for {} values of {}", f.path(), p.name, bytes.size(), n,
                  codec->spec());
    const std::string scale_name = p.name + ".scale";
    if (!f.has(scale_name) || f.entry(scale_name).dtype != "F32" || f.entry(scale_name).shape != Shape{1})
      throw Error("{}: no F32 (1) tensor '{}'", f.path(), scale_name);
    const float scale = f.f32(scale_name)[0];
    codec->unpack(bytes, n, scale, dst);
  }
}

}  // namespace lmul::train
