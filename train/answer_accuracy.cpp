#include "train/answer_accuracy.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/error.h"

namespace lmul::train {

void score_answers(std::span<const int32_t> predicted, std::span<const int32_t> x, std::span<const int32_t> y,
                   int64_t B, int64_t T, AnswerAccuracy& acc, int64_t show) {
  for (int64_t b = 0; b < B; ++b) {
    size_t k = 0;
    bool all = true;
    AnsweredRow* row = nullptr;
    if (static_cast<int64_t>(acc.shown.size()) < show) row = &acc.shown.emplace_back();
    for (int64_t t = 0; t < T; ++t) {
      const size_t i = static_cast<size_t>(b * T + t);
      if (row && k == 0) row->prompt.push_back(x[i]);
      if (y[i] < 0) continue;
      if (row) {
        row->predicted.push_back(predicted[i]);
        row->expected.push_back(y[i]);
      }
      if (acc.position_right.size() <= k) {
        if (acc.rows > 0) throw Error("answer accuracy: rows have different numbers of answer positions");
        acc.position_right.push_back(0);
      }
      const bool right = predicted[i] == y[i];
      acc.position_right[k] += right;
      all = all && right;
      ++k;
    }
    if (k != acc.position_right.size())
      throw Error("answer accuracy: rows have different numbers of answer positions ({} vs {})", k,
                  acc.position_right.size());
    acc.rows += 1;
    acc.rows_right += all;
  }
}

AnswerAccuracy answer_accuracy(nn::LanguageModel& model, const BatchSource& source, data::Split split,
                               const EvalOptions& o, int64_t rows, int64_t show) {
  NoGrad ng;
  ArithStateGuard keep(model);
  model.set_training(false);
  const int64_t B = o.batch_size, T = o.block_size, V = model.vocab_size();
  std::unique_ptr<BatchStream> stream = source.evaluation(split, o.seed);
  Batch batch;
  Rng unused(0);
  AnswerAccuracy acc;
  std::vector<int32_t> predicted(static_cast<size_t>(B * T));
  if (rows <= 0) rows = o.iters * B;
  for (int64_t done = 0; done < rows;) {
    const int64_t b = std::min(B, rows - done);  // the last batch may be short: exactly `rows` rows
    stream->next(b, T, batch);
    Tensor logits = model.forward(batch.x, b, T, {}, unused).logits;  // (b,T,V)
    const float* l = logits.data();
    for (int64_t i = 0; i < b * T; ++i)
      predicted[static_cast<size_t>(i)] =
          static_cast<int32_t>(std::max_element(l + i * V, l + (i + 1) * V) - (l + i * V));
    score_answers({predicted.data(), static_cast<size_t>(b * T)}, batch.x, batch.y, b, T, acc, show);
    done += b;
  }
  return acc;
}

}  // namespace lmul::train
