// A generated task's accuracy report for `lmul eval` (and any C++ user): whole-answer accuracy and
// accuracy per digit place of the product (units first), over the whole held-out set or the
// batches the loss sees, as JSON, plus `show` held-out examples decoded to text.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/batch_source.h"
#include "train/config.h"
#include "train/evaluate.h"

namespace lmul::train {

struct TaskReport {
  // {"samples", "whole_accuracy", "digit_accuracy": [units first, ...], "examples": [...] when shown}
  nlohmann::ordered_json accuracy;
  std::vector<std::string> shown;  // "PROMPT → GOT  (true WANT)  right|WRONG", one per example

  // The text report: "<split> whole-number accuracy A over N samples; per digit place (units
  // first): a0 a1 ...", then the shown examples indented; nothing when there is no accuracy.
  std::vector<std::string> lines(const std::string& split) const;
};

// config is the run's (its dataset names the multiply task); rows = 0: options.iters batches.
TaskReport multiply_task_report(const TrainConfig& config, nn::LanguageModel& model, const BatchSource& source,
                                data::Split split, const EvalOptions& options, int64_t rows, int64_t show);

}  // namespace lmul::train
