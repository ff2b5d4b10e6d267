#include "core/autograd.h"

#include <vector>

#include "core/error.h"

namespace lmul {

namespace {
struct Entry {
  std::shared_ptr<TensorImpl> out;
  std::function<void()> backward;
};
thread_local std::vector<Entry> tape;
thread_local bool enabled = true;
}  // namespace

bool grad_enabled() { return enabled; }

NoGrad::NoGrad() : previous_(enabled) { enabled = false; }
NoGrad::~NoGrad() { enabled = previous_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

void record(const Tensor& out, std::function<void()> backward) {
  out.impl()->requires_grad = true;
  tape.push_back({out.shared(), std::move(backward)});
}

void record_pass_through(const Tensor& out, const Tensor& x) {
  LMUL_ASSERT(out.numel() == x.numel());
  record(out, [out = out.shared(), x] {
    const float* d = out->grad->data();
    float* g = x.grad();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) g[i] += d[i];
  });
}

void backward(const Tensor& loss, float seed) {
  if (loss.numel() != 1) throw Error("[backward] loss must have one element, got shape {}", shape_str(loss.shape()));
  loss.grad()[0] += seed;
  for (size_t i = tape.size(); i-- > 0;) {
    if (tape[i].out->grad) tape[i].backward();
    tape[i].backward = nullptr;  // release saved tensors as soon as they are used
    tape[i].out.reset();
  }
  tape.clear();
}

void clear_tape() { tape.clear(); }
size_t tape_size() { return tape.size(); }

}  // namespace lmul
