#include "core/tensor.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/buffer_pool.h"
#include "core/error.h"

namespace lmul {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) { return fmt::format("({})", fmt::join(s, ", ")); }

Storage::Storage(size_t n) : data_(pool_acquire(n)), n_(n) {}
Storage::~Storage() { pool_release(data_, n_); }

Tensor::Tensor(const Shape& shape, bool requires_grad) : impl_(std::make_shared<TensorImpl>()) {
  for (int64_t d : shape) LMUL_ASSERT(d >= 0);
  impl_->shape = shape;
  impl_->data = std::make_shared<Storage>(static_cast<size_t>(lmul::numel(shape)));
  impl_->requires_grad = requires_grad;
}

Tensor Tensor::zeros(const Shape& shape, bool requires_grad) { return full(shape, 0.0f, requires_grad); }

Tensor Tensor::full(const Shape& shape, float value, bool requires_grad) {
  Tensor t(shape, requires_grad);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

Tensor Tensor::from(const Shape& shape, std::span<const float> values, bool requires_grad) {
  Tensor t(shape, requires_grad);
  LMUL_ASSERT(static_cast<int64_t>(values.size()) == t.numel());
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  if (d < 0) d += n;
  LMUL_ASSERT(d >= 0 && d < n);
  return impl_->shape[static_cast<size_t>(d)];
}

float* Tensor::grad() const {
  if (!impl_->grad) {
    impl_->grad = std::make_shared<Storage>(static_cast<size_t>(numel()));
    std::memset(impl_->grad->data(), 0, sizeof(float) * static_cast<size_t>(numel()));
  }
  return impl_->grad->data();
}

float* Tensor::grad_for_write(bool* fresh) const {
  *fresh = !impl_->grad;
  if (*fresh) impl_->grad = std::make_shared<Storage>(static_cast<size_t>(numel()));
  return impl_->grad->data();
}

void Tensor::zero_grad() const {
  if (impl_->grad) std::memset(impl_->grad->data(), 0, sizeof(float) * static_cast<size_t>(numel()));
}

Tensor Tensor::view_as(const Shape& shape) const {
  LMUL_ASSERT(lmul::numel(shape) == numel());
  Tensor t;
  t.impl_ = std::make_shared<TensorImpl>();
  t.impl_->shape = shape;
  t.impl_->data = impl_->data;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(shape());
  std::memcpy(t.data(), data(), sizeof(float) * static_cast<size_t>(numel()));
  return t;
}

}  // namespace lmul
