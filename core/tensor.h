// fp32 tensors: contiguous row-major storage from the buffer pool, a shape, an optional gradient.
// Low-precision values are fp32 numbers too (docs/ARCHITECTURE.md §4), so there is no dtype.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace lmul {

using Shape = std::vector<int64_t>;
int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);

// A pooled fp32 buffer; returns itself to the pool when the last owner lets go.
class Storage {
 public:
  explicit Storage(size_t n);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data() { return data_; }
  size_t size() const { return n_; }

 private:
  float* data_;
  size_t n_;
};

struct TensorImpl {
  Shape shape;
  std::shared_ptr<Storage> data;
  std::shared_ptr<Storage> grad;  // allocated on first use
  bool requires_grad = false;
};

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised tensor of the given shape.
  explicit Tensor(const Shape& shape, bool requires_grad = false);
  static Tensor zeros(const Shape& shape, bool requires_grad = false);
  static Tensor full(const Shape& shape, float value, bool requires_grad = false);
  static Tensor from(const Shape& shape, std::span<const float> values, bool requires_grad = false);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return lmul::numel(impl_->shape); }
  float* data() const { return impl_->data->data(); }
  std::span<float> values() const { return {data(), static_cast<size_t>(numel())}; }
  float item() const { return data()[0]; }

  bool requires_grad() const { return impl_->requires_grad; }
  void set_requires_grad(bool r) { impl_->requires_grad = r; }
  bool has_grad() const { return impl_->grad != nullptr; }
  // The gradient, zero-filled on first use.
  float* grad() const;
  // For an op's backward that writes (not accumulates) every element when the gradient is not yet
  // allocated: returns the buffer and sets *fresh = true (its contents are then undefined).
  float* grad_for_write(bool* fresh) const;
  std::span<float> grad_values() const { return {grad(), static_cast<size_t>(numel())}; }
  void zero_grad() const;
  void drop_grad() const { impl_->grad.reset(); }

  // A tensor sharing this one's storage under another shape (same numel); no autograd link.
  Tensor view_as(const Shape& shape) const;
  Tensor clone() const;  // a detached copy of the values

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& shared() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace lmul
