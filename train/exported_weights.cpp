#include "train/exported_weights.h"

#include <cstring>
#include <memory>
#include <string_view>

#include <fmt/format.h>

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
      if (p.value.shape().size() != 2) throw Error("a packed tensor is a 2-D weight");
    } catch (const std::exception& err) {
      throw Error("{}: tensor '{}': corrupt quantisation metadata ({})", f.path(), p.name, err.what());
    }
    const auto tensors = [&](std::string_view suffix, std::string_view dtype, const Shape& shape) {
      const std::string name = p.name + std::string(suffix);
      if (!f.has(name) || f.entry(name).dtype != dtype || f.entry(name).shape != shape)
        throw Error("'{}' must be {} {} for {}{}", name, dtype, shape_str(shape), codec->spec(),
                    f.has(name) ? fmt::format(", it is {} {}", f.entry(name).dtype, shape_str(f.entry(name).shape))
                                : ", it is absent");
      return f.bytes(name);
    };
    try {
      codec->load(tensors, p.value.shape()[0], p.value.shape()[1], dst);
    } catch (const Error& err) {
      throw Error("{}: tensor '{}': {}", f.path(), p.name, err.what());
    }
  }
}

}  // namespace lmul::train
