// AdamW with decoupled weight decay (Loshchilov & Hutter), step for step as torch.optim.AdamW
// (foreach=False): p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
// p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps). Weight decay only where Parameter::decay.
#pragma once
#include <cstdint>
#include <vector>

#include "core/parameter.h"

namespace lmul::optim {

struct AdamWConfig {
  float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f;
};

class AdamW {
 public:
  AdamW(Parameters& params, const AdamWConfig& config);
  // Uses each parameter's grad times grad_scale (a missing grad counts as zero): grad_scale is the
  // clipping coefficient, applied in this pass instead of a pass of its own over the gradients.
  void step(float lr, float grad_scale = 1.0f);
  void zero_grad();
  int64_t steps() const { return t_; }
  // Moments in parameter order, for checkpoints.
  std::vector<Tensor>& exp_avg() { return m_; }
  std::vector<Tensor>& exp_avg_sq() { return v_; }
  void set_steps(int64_t t) { t_ = t; }

 private:
  Parameters& params_;
  AdamWConfig c_;
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
};

// torch.nn.utils.clip_grad_norm_: total = ‖all grads‖₂; if max_norm > 0 and total > max_norm,
// grads *= max_norm / (total + 1e-6). Returns the norm before clipping.
float clip_grad_norm(Parameters& params, float max_norm);
// The same in two halves, so that the scaling rides on AdamW's pass:
// opt.step(lr, clip_coefficient(grad_norm(params), max_norm)) updates as clip_grad_norm + step.
float grad_norm(const Parameters& params);  // ‖all grads‖₂ (missing grads count as 0)
// Σ g² of one tensor's gradient in double, in an order fixed by the tensor's size alone; grad_norm
// adds these in parameter order (data-parallel training computes the same sum across processes).
double grad_sum_of_squares(const Tensor& t);
float clip_coefficient(float norm, float max_norm);  // max_norm/(norm + 1e-6) if below 1, else 1

// nanoGPT's get_lr: linear warmup lr·(it+1)/(warmup+1), cosine decay to min_lr at lr_decay_iters,
// min_lr after. decay = false gives the constant learning_rate.
struct LrSchedule {
  float learning_rate = 6e-4f, min_lr = 6e-5f;
  int64_t warmup_iters = 2000, lr_decay_iters = 600000;
  bool decay = true;
  float at(int64_t it) const;
};

}  // namespace lmul::optim
