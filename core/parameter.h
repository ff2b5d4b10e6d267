// A trainable tensor and its name: what a model exposes and an optimizer updates.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace lmul {

// A trainable tensor under its nanoGPT state_dict name. decay: AdamW weight decay applies
// (nanoGPT: every parameter with ≥ 2 dimensions — weights and embeddings, not biases or norms).
struct Parameter {
  std::string name;
  Tensor value;
  bool decay = false;
};
using Parameters = std::vector<Parameter>;

}  // namespace lmul
