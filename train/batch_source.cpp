#include "train/batch_source.h"

#include "data/char_tokenizer.h"
#include "train/config.h"
#include "train/multiply_task.h"
#include "train/token_batches.h"

namespace lmul::train {

std::unique_ptr<BatchSource> make_batch_source(const TrainConfig& c) {
  if (is_task_spec(c.dataset)) return std::make_unique<MultiplyBatches>(parse_multiply_task(c.dataset), c.seed);
  return std::make_unique<TokenBatches>(c.dataset, c.seed);
}

std::unique_ptr<data::Tokenizer> make_tokenizer(const TrainConfig& c) {
  if (is_task_spec(c.dataset)) {
    parse_multiply_task(c.dataset);  // the task must be valid before its tokens mean anything
    return std::make_unique<data::CharTokenizer>(MultiplyTask::token_text());
  }
  return data::load_tokenizer(c.dataset);
}

}  // namespace lmul::train
