// GPT's building blocks as nanoGPT's model.py defines them. Each module registers its parameters
// under nanoGPT's state_dict names, so checkpoints line up with PyTorch's.
#pragma once
#include <string>

#include "core/gemm_site.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "nn/config.h"
#include "core/parameter.h"

namespace lmul::nn {

// nn.Linear(in, out, bias): weight (out, in) ~ N(0, std), bias zeros.
struct Linear {
  Tensor weight, bias;
  GemmSite site;
  Linear(const std::string& name, int64_t in, int64_t out, bool bias, const GemmSite::Specs& specs, uint64_t seed,
         Parameters& params);
  Tensor forward(const Tensor& x) { return linear(x, weight, bias, site); }
};

// LayerNorm(ndim, bias): weight ones, bias zeros (if any).
struct LayerNorm {
  Tensor weight, bias;
  LayerNorm(const std::string& name, int64_t n, bool bias, Parameters& params);
  Tensor forward(const Tensor& x) const { return layer_norm(x, weight, bias); }
};

struct CausalSelfAttention {
  Linear c_attn, c_proj;
  GemmSite qk_site, pv_site;  // the `attention` arithmetic: Q·Kᵀ and P·V
  int64_t n_head;
  float dropout;
  CausalSelfAttention(const std::string& name, const GPTConfig& c, const ArithConfig& a, uint64_t seed,
                      Parameters& params);
  Tensor forward(const Tensor& x, Rng& rng);  // (B,T,C) → (B,T,C)
};

struct MLP {
  Linear c_fc, c_proj;
  float dropout;
  bool gelu_tanh;
  bool relu;  // ReLU instead of GELU
  MLP(const std::string& name, const GPTConfig& c, const ArithConfig& a, uint64_t seed, Parameters& params);
  Tensor forward(const Tensor& x, Rng& rng);
};

// Pre-LN block: x + attn(ln_1(x)), then + mlp(ln_2(x)).
struct Block {
  LayerNorm ln_1;
  CausalSelfAttention attn;
  LayerNorm ln_2;
  MLP mlp;
  Block(const std::string& name, const GPTConfig& c, const ArithConfig& a, uint64_t seed, Parameters& params);
  Tensor forward(const Tensor& x, Rng& rng);
};

}  // namespace lmul::nn
