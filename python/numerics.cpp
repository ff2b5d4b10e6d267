// lmul.numerics: `lmul numerics quantize | mul | error` from Python, on the same library code
// (core/arith/numerics.h), so the figures are the CLI's to the last bit.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <variant>
#include <vector>

#include "core/arith/numerics.h"
#include "core/error.h"
#include "python/arrays.h"

namespace lmul::python {

namespace py = pybind11;

namespace {

std::vector<std::string> spec_list(const std::variant<std::string, std::vector<std::string>>& specs) {
  if (const auto* one = std::get_if<std::string>(&specs)) return {*one};
  const auto& many = std::get<std::vector<std::string>>(specs);
  if (many.empty()) throw Error("numerics error: give at least one spec, e.g. \"lmul:m=4\"");
  return many;
}

std::vector<arith::ProductError> product_errors(const std::vector<std::string>& specs, int64_t n, uint64_t seed,
                                                bool round_product) {
  if (n < 1) throw Error("numerics error: n={} must be at least 1", n);
  std::vector<arith::ProductError> rows;
  py::gil_scoped_release release;
  for (const auto& s : specs) rows.push_back(arith::product_error(s, n, seed, round_product));
  return rows;
}

std::vector<float> values_of(const py::handle& x, const char* what) {
  const Matrix m = contiguous(as_matrix(x, what));
  if (m.shape.size() != 1) throw Error("{}: a {}-dimensional array; expected 1-D values", what, m.shape.size());
  return {m.data, m.data + m.cols};
}

py::array_t<float> to_array(const std::vector<float>& v) {
  auto a = new_array({static_cast<py::ssize_t>(v.size())});
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace

void bind_numerics(py::module_& parent) {
  auto m = parent.def_submodule("numerics", "`lmul numerics` from Python: the same library code, the same figures");
  using Specs = std::variant<std::string, std::vector<std::string>>;
  m.def(
      "error",
      [](const Specs& specs, int64_t n, uint64_t seed, bool round_product) {
        py::list out;
        for (const auto& r : product_errors(spec_list(specs), n, seed, round_product)) {
          py::dict d;
          d["spec"] = r.spec;
          d["n"] = r.n;
          d["mean"] = r.mean;
          d["max"] = r.max;
          out.append(d);
        }
        return out;
      },
      py::arg("spec"), py::arg("n") = 100000, py::arg("seed") = 0, py::arg("round_product") = false,
      R"(Mean/max relative error vs fp32 of n products of standard-normal pairs, per spec (a string or a
list): [{"spec", "n", "mean", "max"}], as `lmul numerics error --mul SPEC... --n N --seed S
[--round-product]` computes them.)");
  m.def(
      "error_table",
      [](const Specs& specs, int64_t n, uint64_t seed, bool round_product) {
        const auto rows = product_errors(spec_list(specs), n, seed, round_product);
        return arith::format_product_errors(rows);
      },
      py::arg("spec"), py::arg("n") = 100000, py::arg("seed") = 0, py::arg("round_product") = false,
      "The table `lmul numerics error` prints, character for character");
  m.def(
      "quantize",
      [](const py::handle& x, const std::string& spec, const std::string& role, uint64_t seed) {
        const auto xs = values_of(x, "numerics quantize: x");
        arith::Role r = arith::Role::weight;
        if (role == "activation")
          r = arith::Role::activation;
        else if (role == "gradient")
          r = arith::Role::gradient;
        else if (role != "weight")
          throw Error("numerics quantize: role '{}' is not allowed (choose weight|activation|gradient)", role);
        std::vector<float> q;
        {
          py::gil_scoped_release release;
          q = arith::quantize_values(spec, xs, r, seed);
        }
        return to_array(q);
      },
      py::arg("x"), py::arg("spec"), py::arg("role") = "weight", py::arg("seed") = 0,
      "`lmul numerics quantize --format SPEC --role ROLE --seed S`: 1-D values quantised as one 1xn tensor");
  m.def(
      "mul",
      [](const py::handle& x, const py::handle& y, const std::string& spec, uint64_t seed) {
        const auto xs = values_of(x, "numerics mul: x"), ys = values_of(y, "numerics mul: y");
        if (xs.size() != ys.size())
          throw Error("numerics mul: x has {} values, y {}; give pairs", xs.size(), ys.size());
        std::vector<float> p;
        {
          py::gil_scoped_release release;
          auto mult = arith::make_multiplier(spec, seed);
          p = arith::multiply_pairs(*mult, xs, ys);
        }
        return to_array(p);
      },
      py::arg("x"), py::arg("y"), py::arg("spec"), py::arg("seed") = 0,
      "`lmul numerics mul --mul SPEC --seed S`: the products x_i*y_i as the arithmetic forms them");
}

}  // namespace lmul::python
