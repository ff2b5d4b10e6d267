// Accuracy of a generated task's answers in one teacher-forced forward pass: the answer positions
// of a row are those whose target is not -1 (the loss mask); a row is right when every one of
// them is predicted (argmax) right — equal to greedy decoding's whole-answer accuracy.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "nn/language_model.h"
#include "train/batch_source.h"
#include "train/evaluate.h"

namespace lmul::train {

struct AnswerAccuracy {
  int64_t rows = 0, rows_right = 0;
  std::vector<int64_t> position_right;  // per answer position, in sequence order

  double whole() const { return rows ? static_cast<double>(rows_right) / static_cast<double>(rows) : 0.0; }
  double position(size_t k) const {
    return rows ? static_cast<double>(position_right[k]) / static_cast<double>(rows) : 0.0;
  }
};

// Adds B rows of T predicted ids against their targets (y = -1: not an answer position). Throws
// lmul::Error when rows have different numbers of answer positions.
void score_answers(std::span<const int32_t> predicted, std::span<const int32_t> y, int64_t B, int64_t T,
                   AnswerAccuracy& acc);

// The accuracy over options.iters evaluation batches of a split (the batches the loss sees).
AnswerAccuracy answer_accuracy(nn::LanguageModel& model, const BatchSource& source, data::Split split,
                               const EvalOptions& options);

}  // namespace lmul::train
