#include "train/batch_source.h"

#include "train/config.h"
#include "train/multiply_task.h"
#include "train/token_batches.h"

namespace lmul::train {

std::unique_ptr<BatchSource> make_batch_source(const TrainConfig& c) {
  if (is_task_spec(c.dataset)) return std::make_unique<MultiplyBatches>(parse_multiply_task(c.dataset), c.seed);
  return std::make_unique<TokenBatches>(c.dataset, c.seed);
}

}  // namespace lmul::train
