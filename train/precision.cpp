#include "train/precision.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/arith/arith.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/rng.h"
#include "train/batch_source.h"
#include "train/evaluate.h"
#include "train/model.h"

namespace lmul::train {

std::string precision_spec(const std::string& format, int bits) {
  const size_t at = format.find("{bits}");
  if (at == std::string::npos)
    throw Error("precision: --format '{}' has no {{bits}} to put the bit-width in (e.g. int:b={{bits}},gran=channel)",
                format);
  std::string spec = format;
  spec.replace(at, 6, std::to_string(bits));
  try {
    return arith::make_multiplier(spec)->spec();
  } catch (const Error& e) {
    throw Error("precision: --format '{}' at {} bits: {}", format, bits, e.what());
  }
}

void check_precision_options(const PrecisionOptions& o) {
  if (o.bits.empty()) throw Error("precision: --bits is empty (give bit-widths, e.g. --bits 4,8)");
  std::set<int> seen;
  for (int b : o.bits) {
    if (b < 2 || b > 16) throw Error("precision: --bits {} is out of range (2..16)", b);
    if (!seen.insert(b).second) throw Error("precision: --bits {} is given twice", b);
    precision_spec(o.format, b);
  }
  if (!(o.avg_bits > 0)) throw Error("precision: --avg-bits {} must be positive", o.avg_bits);
  if (o.batches < 1) throw Error("precision: --batches {} must be at least 1", o.batches);
  if (o.hutchinson.samples < 1) throw Error("precision: --samples {} must be at least 1", o.hutchinson.samples);
  if (!(o.hutchinson.eps > 0)) throw Error("precision: --eps {} must be positive", o.hutchinson.eps);
}

PrecisionResult hawq_precision(LoadedRun& run, const PrecisionOptions& o) {
  check_precision_options(o);
  const TrainConfig& c = run.config;
  nn::LanguageModel& model = *run.model;
  // The Linear modules of the blocks and their weights.
  std::vector<std::string> modules;
  std::vector<Tensor> weights;
  for (const auto& m : gemm_module_names(c)) {
    if (m == "lm_head") continue;
    for (const auto& p : model.parameters())
      if (p.name == m + ".weight") {
        modules.push_back(m);
        weights.push_back(p.value);
      }
  }
  if (modules.empty()) throw Error("{}: the model has no Linear modules to allocate bits to", run.checkpoint);
  // A budget no allocation meets fails before the traces are computed.
  AllocationProblem p;
  p.bits = o.bits;
  int64_t total = 0;
  for (const auto& w : weights) {
    p.params.push_back(w.numel());
    p.omega.emplace_back(o.bits.size(), 0.0);
    total += w.numel();
  }
  p.budget_bits = o.avg_bits * static_cast<double>(total);
  try {
    allocate_bits(p);
  } catch (const Error& e) {
    throw Error("precision: --avg-bits {}: {}", o.avg_bits, e.what());
  }
  p.omega.clear();
  // The fixed loss: `batches` training batches from the evaluation stream of the train split.
  const auto data = make_batch_source(c);
  data->check_block_size(c.block_size, run.checkpoint);
  std::vector<Batch> batches(static_cast<size_t>(o.batches));
  const auto stream = data->evaluation(data::Split::train, c.seed);
  for (auto& b : batches) stream->next(c.batch_size, c.block_size, b);
  ArithStateGuard keep_state(model);
  model.set_training(false);
  Rng unused(0);
  const GradientFn gradient = [&] {
    for (auto& p : model.parameters()) p.value.zero_grad();
    for (const auto& b : batches) {
      Tensor loss = model.forward(b.x, c.batch_size, c.block_size, b.y, unused).loss;
      backward(loss, 1.0f / static_cast<float>(batches.size()));
    }
  };
  const std::vector<TraceEstimate> traces = hutchinson_traces(weights, gradient, o.hutchinson);

  PrecisionResult r;
  for (size_t i = 0; i < modules.size(); ++i) {
    PrecisionRow row;
    row.module = modules[i];
    row.params = weights[i].numel();
    row.trace = traces[i];
    const auto& shape = weights[i].shape();
    const auto w = weights[i].values();
    std::vector<float> q(w.size());
    for (int b : o.bits) {
      auto mul = arith::make_multiplier(precision_spec(o.format, b));
      if (!mul->quantize(arith::Role::weight, w.data(), shape[0], shape[1], shape[1], q.data()))
        std::copy(w.begin(), w.end(), q.begin());
      double e = 0;
      for (size_t k = 0; k < w.size(); ++k)
        e += (static_cast<double>(q[k]) - w[k]) * (static_cast<double>(q[k]) - w[k]);
      row.quant_error.push_back(e);
      row.omega.push_back(row.trace.trace / static_cast<double>(row.params) * e);
    }
    p.omega.push_back(row.omega);
    r.rows.push_back(std::move(row));
  }
  r.allocation = allocate_bits(p);
  for (size_t i = 0; i < r.rows.size(); ++i) {
    r.rows[i].bits = r.allocation.bits[i];
    r.rows[i].spec = precision_spec(o.format, r.rows[i].bits);
  }
  r.avg_bits = static_cast<double>(r.allocation.size_bits) / static_cast<double>(total);
  return r;
}

std::string modules_fragment(const PrecisionResult& r, const std::string& header) {
  toml::table modules;
  for (const auto& row : r.rows) modules.insert_or_assign(row.module, row.spec);
  toml::table arith;
  arith.insert_or_assign("modules", modules);
  toml::table root;
  root.insert_or_assign("arith", arith);
  std::ostringstream s;
  s << header << root << "\n";
  return s.str();
}

}  // namespace lmul::train
