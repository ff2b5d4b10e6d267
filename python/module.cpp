// The Python module lmul._lmul (python/lmul/__init__.py re-exports it): lmul's number formats and
// GEMM kernels over NumPy float32 arrays. Kernels run with the GIL released; lmul::Error becomes
// ValueError("lmul: error: ...") with lmul's one-line message.
#include <omp.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/arith/arith.h"
#include "core/error.h"

extern "C" void openblas_set_num_threads(int);

namespace lmul::python {
void bind_site(pybind11::module_& m);
void bind_numerics(pybind11::module_& m);
}  // namespace lmul::python

namespace py = pybind11;

PYBIND11_MODULE(_lmul, m) {
  m.doc() = "lmul's number formats and GEMM kernels (bit-identical to the lmul CLI)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lmul::Error& e) {
      PyErr_SetString(PyExc_ValueError, (std::string("lmul: error: ") + e.what()).c_str());
    }
  });
  m.def(
      "formats",
      [] {
        py::list out;
        for (const auto& f : lmul::arith::formats()) {
          py::dict d;
          d["name"] = f.name;
          d["help"] = f.help;
          d["example"] = f.example;
          d["export"] = f.export_help ? py::object(py::str(f.export_help)) : py::none();
          out.append(d);
        }
        return out;
      },
      "The table of number formats (`lmul numerics --list`): [{name, help, example, export}]");
  m.def(
      "canonical_spec", [](const std::string& spec) { return lmul::arith::make_multiplier(spec)->spec(); },
      py::arg("spec"), "The spec with every option spelled out, e.g. lmul:m=4 -> lmul:m=4,variant=bits,round=rne");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw lmul::Error("set_num_threads: {} threads; give at least 1", n);
        omp_set_num_threads(n);
        openblas_set_num_threads(n);
      },
      py::arg("n"), "Threads of lmul's one pool (OpenMP, shared with OpenBLAS), as `lmul train --threads`");
  m.def("get_num_threads", [] { return omp_get_max_threads(); });
  lmul::python::bind_site(m);
  lmul::python::bind_numerics(m);
}
