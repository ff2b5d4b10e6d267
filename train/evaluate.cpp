#include "train/evaluate.h"

#include <algorithm>

#include "core/autograd.h"

namespace lmul::train {

double estimate_split_loss(nn::LanguageModel& model, const BatchSource& source, data::Split split,
                           const EvalOptions& o) {
  NoGrad ng;
  ArithStateGuard keep(model);
  model.set_training(false);
  const int64_t B = o.batch_size, T = o.block_size;
  std::unique_ptr<BatchStream> stream = source.evaluation(split, o.seed);
  Batch batch;
  Rng unused(0);
  double sum = 0;
  for (int64_t k = 0; k < o.iters; ++k) {
    stream->next(B, T, batch);
    if (o.batches) {
      o.batches->x.insert(o.batches->x.end(), batch.x.begin(), batch.x.end());
      o.batches->y.insert(o.batches->y.end(), batch.y.begin(), batch.y.end());
    }
    if (o.last_token_only)  // -1 is the ignored target: the mean runs over the B last positions
      for (int64_t b = 0; b < B; ++b) std::fill_n(batch.y.begin() + b * T, T - 1, -1);
    sum += model.forward(batch.x, B, T, batch.y, unused).loss.item();
  }
  return sum / static_cast<double>(o.iters);
}

ArithStateGuard::ArithStateGuard(nn::LanguageModel& model) : model_(model) {
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

}  // namespace lmul::train
