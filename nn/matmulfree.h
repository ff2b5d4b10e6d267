// The MatMul-free language model (Zhu et al. 2024, arXiv 2406.02528) as its code computes it:
// ridgerchu/matmulfreellm's HGRNBitForCausalLM (../shared/research/matmulfree_spec.md). Every
// projection is a BitLinear (its own RMSNorm, then a GEMM through its site: with the `ternary`
// arithmetic, per-token absmax int8 activations × per-tensor absmean ternary weights, STE
// backward); the token mixer is the MLGRU (HGRNBitAttention), an element-wise gated recurrence
// with a learned lower bound on the forget gate; the channel mixer is a GLU with one fused
// gate/up projection. Pre-norm blocks, untied fp32 embeddings, no positional encoding, a BitLinear
// lm_head after the final norm, no biases. Parameters carry the reference's state_dict names.
#pragma once
#include <memory>
#include <vector>

#include "core/gemm_site.h"
#include "core/parameter.h"
#include "core/tensor.h"
#include "nn/config.h"
#include "nn/language_model.h"

namespace lmul::nn {

struct MatMulFreeConfig {
  int64_t block_size = 1024;  // training window; the recurrence itself has no length limit
  int64_t vocab_size = 32000;
  int64_t n_layer = 24;           // num_hidden_layers
  int64_t n_embd = 2048;          // hidden_size (d; expand_ratio 1, so the MLGRU is d wide too)
  int64_t intermediate_size = 0;  // I; 0: the reference's rule 256·⌈⌊8d/3⌋/256⌉
  bool use_lower_bound = true;    // HGRN's learned forget-gate floor
  float rms_norm_eps = 1e-6f;     // every RMSNorm, BitLinear's inner one included (spec §2 ⚠)
};

// The reference's intermediate_size rule (modeling_hgrn_bit.py:43-47) with hidden_ratio 4:
// 256·ceil(int(d·4·2/3)/256). d = 64 → 256, d = 1024 → 2816.
int64_t matmulfree_intermediate_size(int64_t n_embd);

// nn.Linear without bias whose input is first RMS-normalised by its own weight (BitLinear's
// `norm`), then multiplied through its site: weight (out, in) as `<name>.weight`, the norm as
// `<name>.norm.weight`.
struct BitLinear {
  Tensor weight, norm_weight;
  GemmSite site;
  float eps;
  // The weight as the forward arithmetic quantised it, held while a generation stream is alive
  // (weights do not change then): each token then quantises only its activations.
  Tensor frozen_weight;
  BitLinear(const std::string& name, int64_t in, int64_t out, const GemmSite::Specs& specs, uint64_t seed, float eps,
            Parameters& params);
  Tensor forward(const Tensor& x);
  void freeze();    // quantise the weight once, for forward() without gradients
  void unfreeze();  // back to quantising at every call
};

class MatMulFree final : public LanguageModel {
 public:
  // Uses arith.linear for the seven projections of a block, arith.head for lm_head and
  // arith.backward for their gradient GEMMs; attention/embedding must be "exact" (the caller
  // checks: there are no attention products and the embedding stays fp32).
  MatMulFree(const MatMulFreeConfig& config, const ArithConfig& arith, uint64_t seed);
  ~MatMulFree() override;

  // The reference's init (spec §6): embeddings, gate_proj, lm_head N(0, 0.02); down_proj
  // N(0, 0.02/√(2L)); i/f/g/o_proj Xavier-uniform with gain 2^−2.5; norms 1; lower_bounds 0.
  void init(Rng& rng) override;

  Output forward(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets, Rng& rng,
                 bool last_position_only = false) override;
  void set_training(bool) override {}  // no dropout

  Parameters& parameters() override { return params_; }
  std::vector<GemmSite*> gemm_sites() override;
  int64_t block_size() const override { return config_.block_size; }
  int64_t vocab_size() const override { return config_.vocab_size; }
  // non_embedding leaves out the input embedding table (lm_head is a projection of its own).
  int64_t num_params(bool non_embedding = true) const override;
  std::unique_ptr<TokenStream> stream() override;

  const MatMulFreeConfig& config() const { return config_; }

  struct Layer;

 private:
  friend class MatMulFreeStream;
  std::vector<BitLinear*> bit_linears();
  // state: per layer, the recurrent state h (B, d) to start from and, on return, the state after
  // the last position; null: start from zeros and keep nothing.
  Output run(std::span<const int32_t> idx, int64_t B, int64_t T, std::span<const int32_t> targets,
             bool last_position_only, std::vector<Tensor>* state);

  MatMulFreeConfig config_;
  Parameters params_;
  Tensor lower_bounds_, embeddings_, norm_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::unique_ptr<BitLinear> lm_head_;
};

}  // namespace lmul::nn
