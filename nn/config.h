// The model's shape and arithmetic, as nanoGPT's GPTConfig plus lmul's [arith] table.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace lmul::nn {

struct GPTConfig {
  int64_t block_size = 1024;
  int64_t vocab_size = 50304;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_embd = 768;
  float dropout = 0.0f;
  bool bias = true;
  bool gelu_tanh = false;  // false: exact erf GELU as nanoGPT's nn.GELU()
  bool relu = false;       // MLP activation ReLU instead of GELU (the multiplication-task paper's model)
};

// Multiply arithmetic per site (spec strings, docs/ARCHITECTURE.md §3) and for the backward pass.
struct ArithConfig {
  std::string linear = "exact";     // q/k/v/proj/fc/fc-proj weights × activations
  std::string attention = "exact";  // Q·Kᵀ and P·V
  std::string head = "exact";       // lm_head (tied to wte)
  std::string embedding = "exact";  // the wte/wpe tables themselves (quantised weights, STE)
  std::string backward = "same";    // same | exact | SPEC, for every site's gradient GEMMs
  // [arith.modules] resolved: module name (checkpoint name without ".weight") → forward spec; a
  // module not listed takes its site's spec (linear, or head for lm_head).
  std::map<std::string, std::string> modules;

  const std::string& module_spec(const std::string& module, const std::string& site_spec) const {
    const auto it = modules.find(module);
    return it == modules.end() ? site_spec : it->second;
  }
};

}  // namespace lmul::nn
