// Define-by-run reverse-mode autograd: each differentiable op appends a backward closure to the
// tape of this thread; backward(loss) runs the tape in reverse (creation order is a topological
// order), then clears it, releasing what the closures saved. Gradients accumulate (+=), so tied
// weights and gradient accumulation just work.
#pragma once
#include <functional>

#include "core/tensor.h"

namespace lmul {

// True while ops should record (no NoGrad guard is alive on this thread).
bool grad_enabled();

// Disables recording in its scope (evaluation, sampling).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

// True if an op with these inputs must record a backward closure.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

// Records a backward closure for out. The closure runs only if out received a gradient.
void record(const Tensor& out, std::function<void()> backward);

// Records x.grad += out.grad (same numel): the gradient of a view or of a straight-through
// quantiser.
void record_pass_through(const Tensor& out, const Tensor& x);

// Seeds d(loss)/d(loss) = seed (1; 1/k for k accumulated micro-batches) and runs the tape in
// reverse. loss must have one element.
void backward(const Tensor& loss, float seed = 1.0f);

// Drops the tape without running it (e.g. after a forward whose loss is not needed).
void clear_tape();
size_t tape_size();

}  // namespace lmul
