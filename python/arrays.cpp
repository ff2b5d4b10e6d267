#include "python/arrays.h"

#include "core/error.h"

namespace lmul::python {

namespace {
// A fresh, aligned C-order copy (numpy.array(a, order="C")).
py::array c_order_copy(const py::array& a) {
  using namespace pybind11::literals;
  return py::module_::import("numpy").attr("array")(a, "dtype"_a = "float32", "order"_a = "C", "copy"_a = true);
}
}  // namespace

Matrix as_matrix(const py::handle& object, const char* what, bool two_dimensional) {
  py::array a = py::array::ensure(object);
  if (!a) throw Error("{}: expected a NumPy float32 array, got a {}", what, std::string(py::str(object.get_type())));
  if (!a.dtype().is(py::dtype::of<float>()))
    throw Error("{}: dtype {} is not float32; pass x.astype(numpy.float32)", what, std::string(py::str(a.dtype())));
  if (a.ndim() == 0 || (two_dimensional && a.ndim() != 2))
    throw Error("{}: a {}-dimensional array; expected {}", what, a.ndim(),
                two_dimensional ? "a 2-D matrix" : "at least one dimension");
  Matrix m;
  m.shape.assign(a.shape(), a.shape() + a.ndim());
  m.cols = a.shape(a.ndim() - 1);
  m.rows = m.cols == 0 ? 0 : a.size() / m.cols;
  const auto f = static_cast<py::ssize_t>(sizeof(float));
  const bool aligned = (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
  const bool rows_in_place =
      a.ndim() == 2 && a.strides(1) == f && a.strides(0) >= 0 && a.strides(0) % f == 0 && a.strides(0) >= f * m.cols;
  if (aligned && (a.flags() & py::array::c_style)) {
    m.array = a;
    m.ld = m.cols;
  } else if (aligned && rows_in_place) {
    m.array = a;
    m.ld = a.strides(0) / f;
  } else {
    m.array = c_order_copy(a);
    m.ld = m.cols;
    m.copied = true;
  }
  m.data = static_cast<const float*>(m.array.data());
  if (m.ld == 0) m.ld = 1;  // an empty row: any stride ≥ 1 (BLAS requires ld ≥ 1)
  return m;
}

Matrix contiguous(const Matrix& m) {
  if (m.ld == m.cols) return m;
  Matrix c = as_matrix(c_order_copy(m.array), "operand");
  c.copied = true;
  return c;
}

py::array_t<float> new_array(const std::vector<py::ssize_t>& shape) { return py::array_t<float>(shape); }

}  // namespace lmul::python
