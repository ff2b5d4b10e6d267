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

// One scored row, for showing: its prompt (the ids up to and including the first answer
// position's input) and the answer ids predicted and expected, in sequence order.
struct AnsweredRow {
  std::vector<int32_t> prompt, predicted, expected;
  bool right() const { return predicted == expected; }
};

struct AnswerAccuracy {
  int64_t rows = 0, rows_right = 0;
  std::vector<int64_t> position_right;  // per answer position, in sequence order
  std::vector<AnsweredRow> shown;       // the first `show` rows scored

  double whole() const { return rows ? static_cast<double>(rows_right) / static_cast<double>(rows) : 0.0; }
  double position(size_t k) const {
    return rows ? static_cast<double>(position_right[k]) / static_cast<double>(rows) : 0.0;
  }
};

// Adds B rows of T predicted ids against their targets (y = -1: not an answer position); x, the
// inputs, fill the first `show` rows of acc.shown. Throws lmul::Error when rows have different
// numbers of answer positions.
void score_answers(std::span<const int32_t> predicted, std::span<const int32_t> x, std::span<const int32_t> y,
                   int64_t B, int64_t T, AnswerAccuracy& acc, int64_t show = 0);

// The accuracy over the first `rows` rows of a split's evaluation stream (rows = 0: options.iters
// batches, the batches the loss sees), drawn options.batch_size at a time; the first `show` rows
// are kept in .shown.
AnswerAccuracy answer_accuracy(nn::LanguageModel& model, const BatchSource& source, data::Split split,
                               const EvalOptions& options, int64_t rows = 0, int64_t show = 0);

}  // namespace lmul::train
