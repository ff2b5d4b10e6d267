#include "apps/evaluate.h"

#include <algorithm>

#include "core/autograd.h"

namespace lmul::apps {

double estimate_split_loss(nn::GPT& model, const data::TokenDataset& data, data::Split split, int64_t iters,
                           int64_t B, int64_t T, int64_t seed, EvalBatches* batches,
                           bool last_token_only) {
  NoGrad ng;
  ArithStateGuard keep(model);
  model.set_training(false);
  std::vector<int32_t> x, y;
  Rng unused(0);
  Rng eval_rng(static_cast<uint64_t>(seed) ^ 0xe7a1e7a1ull);
  double sum = 0;
  for (int64_t k = 0; k < iters; ++k) {
    data.batch(split, B, T, eval_rng, x, y);
    if (batches) {
      batches->x.insert(batches->x.end(), x.begin(), x.end());
      batches->y.insert(batches->y.end(), y.begin(), y.end());
    }
    if (last_token_only)  // -1 is the ignored target: the mean runs over the B last positions
      for (int64_t b = 0; b < B; ++b) std::fill_n(y.begin() + b * T, T - 1, -1);
    sum += model.forward(x, B, T, y, unused).loss.item();
  }
  return sum / static_cast<double>(iters);
}

ArithStateGuard::ArithStateGuard(nn::GPT& model) : model_(model) {
  for (GemmSite* s : model_.gemm_sites()) {
    saved_.push_back(s->forward ? s->forward->state() : std::vector<uint8_t>{});
    saved_.push_back(s->backward ? s->backward->state() : std::vector<uint8_t>{});
  }
}

ArithStateGuard::~ArithStateGuard() {
  size_t i = 0;
  for (GemmSite* s : model_.gemm_sites()) {
    if (s->forward && !saved_[i].empty()) s->forward->set_state(saved_[i]);
    ++i;
    if (s->backward && !saved_[i].empty()) s->backward->set_state(saved_[i]);
    ++i;
  }
}

}  // namespace lmul::apps
