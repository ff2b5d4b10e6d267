// NumPy float32 arrays as the row-major matrices lmul's kernels take (python/README: what is copied).
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lmul::python {

namespace py = pybind11;

// An array read as rows×cols with row stride ld floats: cols is the last dimension, rows the
// product of the others (a 1-D array is one row, as `lmul numerics quantize` reads its numbers).
// Read in place when that is possible (C-contiguous, or 2-D with unit column stride and a
// non-negative row stride, e.g. a slice of columns); any other layout is copied once into C order.
// Only float32: another dtype is a ValueError (no silent conversion).
struct Matrix {
  py::array array;  // keeps the memory alive (the input itself, or its C-order copy)
  const float* data = nullptr;
  int64_t rows = 0, cols = 0, ld = 0;
  std::vector<py::ssize_t> shape;
  bool copied = false;
};
Matrix as_matrix(const py::handle& object, const char* what, bool two_dimensional = false);

// m itself when its rows are contiguous (ld == cols), else its C-order copy.
Matrix contiguous(const Matrix& m);

// A fresh C-contiguous float32 array of the given shape (uninitialised).
py::array_t<float> new_array(const std::vector<py::ssize_t>& shape);

}  // namespace lmul::python
