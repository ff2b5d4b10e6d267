#include "python/site.h"

#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <optional>
#include <variant>

#include "core/arith/arith.h"
#include "core/error.h"
#include "core/ops.h"
#include "python/arrays.h"

namespace lmul::python {

namespace py = pybind11;

Site::Site(const std::string& forward, const std::string& backward, uint64_t seed, const std::string& name)
    : site(GemmSite::make(name, {forward, backward}, seed)) {}

namespace {

arith::Role parse_role(const std::string& role, const char* what) {
  if (role == "weight") return arith::Role::weight;
  if (role == "activation") return arith::Role::activation;
  if (role == "gradient") return arith::Role::gradient;
  throw Error("{}: role '{}' is not allowed (choose weight|activation|gradient)", what, role);
}

// A spec string gets a fresh Site for the one call; a Site is used (and its state advanced) as it is.
using SiteArg = std::variant<std::string, Site*>;
struct SiteRef {
  std::unique_ptr<Site> owned;
  Site* site = nullptr;
};
SiteRef resolve(const SiteArg& arg, uint64_t seed) {
  SiteRef r;
  if (const auto* spec = std::get_if<std::string>(&arg)) {
    r.owned = std::make_unique<Site>(*spec, "same", seed, "python");
    r.site = r.owned.get();
  } else {
    r.site = std::get<Site*>(arg);
    if (!r.site) throw Error("arith: expected a spec string or an lmul.Site, got None");
  }
  return r;
}

// x rounded by m as role (rows are the last dimension's vectors); x copied where m leaves fp32 values as they are.
py::array_t<float> quantize_with(Site& s, arith::Multiplier& m, const Matrix& x, arith::Role role) {
  auto out = new_array(x.shape);
  float* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    std::lock_guard lock(s.mutex);
    if (x.rows == 0 || x.cols == 0 || !m.quantize(role, x.data, x.rows, x.cols, x.ld, o))
      for (int64_t i = 0; i < x.rows; ++i) std::memcpy(o + i * x.cols, x.data + i * x.ld, x.cols * sizeof(float));
  }
  return out;
}

// The quantised operand as a contiguous rows×cols matrix, or nullptr (use the operand as it is).
std::unique_ptr<float[]> quantized(arith::Multiplier& m, arith::Role role, const Matrix& x) {
  auto q = std::make_unique<float[]>(static_cast<size_t>(x.rows * x.cols));
  if (!m.quantize(role, x.data, x.rows, x.cols, x.ld, q.get())) return nullptr;
  return q;
}

// C = op(A)·op(B) as the site's forward pass forms it: A quantised as activations; B as weights
// (b_role) — with an integer forward and the Linear layout (B stored N×K, trans_b) the int8 codes'
// GEMM, exactly linear_forward(); else quantize() both, then the arithmetic's gemm().
py::array_t<float> site_matmul(Site& s, const py::handle& a_obj, const py::handle& b_obj, bool ta, bool tb,
                               const std::string& b_role_name) {
  const Matrix a = as_matrix(a_obj, "matmul: a", true), b = as_matrix(b_obj, "matmul: b", true);
  const arith::Role b_role = parse_role(b_role_name, "matmul: b_role");
  const int64_t M = ta ? a.cols : a.rows, K = ta ? a.rows : a.cols;
  const int64_t Kb = tb ? b.cols : b.rows, N = tb ? b.rows : b.cols;
  if (K != Kb)
    throw Error("matmul: inner dimensions differ: a{} is {}x{}, b{} is {}x{} (check trans_a/trans_b)", ta ? ".T" : "",
                M, K, tb ? ".T" : "", Kb, N);
  auto out = new_array({M, N});
  float* c = out.mutable_data();
  const bool int_path = s.site.forward->int8_forward() && !ta && tb && b_role == arith::Role::weight;
  const Matrix ac = int_path ? contiguous(a) : a, bc = int_path ? contiguous(b) : b;  // int8 codes: contiguous rows
  {
    py::gil_scoped_release release;
    std::lock_guard lock(s.mutex);
    arith::Multiplier& m = *s.site.forward;
    if (M * N > 0 && K == 0) std::fill(c, c + M * N, 0.0f);
    if (M * N > 0 && K > 0) {
      if (int_path) {
        linear_forward(s.site, ac.data, bc.data, nullptr, nullptr, M, K, N, c);
      } else {
        const auto aq = quantized(m, arith::Role::activation, a);
        const auto bq = quantized(m, b_role, b);
        m.gemm({ta, tb, M, N, K, aq ? aq.get() : a.data, aq ? a.cols : a.ld, bq ? bq.get() : b.data, bq ? b.cols : b.ld,
                c, N, false});
      }
    }
  }
  return out;
}

py::tuple linear_forward_py(Site& s, const py::handle& x_obj, const py::handle& w_obj, bool need_grad) {
  const Matrix x = as_matrix(x_obj, "linear: x"), w = as_matrix(w_obj, "linear: weight", true);
  if (w.cols != x.cols)
    throw Error("{}: x with {} features does not fit weight {}x{} (out_features x in_features)", s.site.name, x.cols,
                w.rows, w.cols);
  const int64_t N = x.rows, Cin = x.cols, Cout = w.rows;
  std::vector<py::ssize_t> y_shape = x.shape;
  y_shape.back() = Cout;
  auto y = new_array(y_shape);
  // The quantised operands, kept for the backward (None where the format takes fp32 as it is).
  std::optional<py::array_t<float>> xq, wq;
  const bool int_forward = s.site.forward->int8_forward();
  if (!int_forward || need_grad) {
    xq = new_array(x.shape);
    wq = new_array(w.shape);
  }
  const Matrix xc = contiguous(x), wc = contiguous(w);  // the kernels take contiguous rows
  bool x_rounded = false, w_rounded = false;
  float* yp = y.mutable_data();
  float* xqp = xq ? xq->mutable_data() : nullptr;
  float* wqp = wq ? wq->mutable_data() : nullptr;
  {
    py::gil_scoped_release release;
    std::lock_guard lock(s.mutex);
    arith::Multiplier& m = *s.site.forward;
    if (N * Cout > 0 && Cin == 0) std::fill(yp, yp + N * Cout, 0.0f);
    if (N * Cout > 0 && Cin > 0) {
      // The order of linear(): an integer forward's codes first, then the operands the backward needs.
      if (int_forward) linear_forward(s.site, xc.data, wc.data, nullptr, nullptr, N, Cin, Cout, yp);
      if (xqp) {
        x_rounded = m.quantize(arith::Role::activation, xc.data, N, Cin, Cin, xqp);
        try {
          w_rounded = m.quantize(arith::Role::weight, wc.data, Cout, Cin, Cin, wqp);
        } catch (const Error& e) {  // a format that cannot take this weight's shape: name the site
          throw Error("{}: {}", s.site.name, e.what());
        }
      }
      if (!int_forward)
        linear_forward(s.site, xc.data, wc.data, x_rounded ? xqp : xc.data, w_rounded ? wqp : wc.data, N, Cin, Cout,
                       yp);
    }
  }
  return py::make_tuple(y, x_rounded ? py::object(*xq) : py::none(), w_rounded ? py::object(*wq) : py::none());
}

py::tuple linear_backward_py(Site& s, const py::handle& dy_obj, const py::handle& xq_obj, const py::handle& wq_obj,
                             bool need_dx, bool need_dw, bool need_db) {
  const Matrix dy = as_matrix(dy_obj, "linear backward: dy"), xq = as_matrix(xq_obj, "linear backward: x");
  const Matrix wq = as_matrix(wq_obj, "linear backward: weight", true);
  const int64_t N = xq.rows, Cin = xq.cols, Cout = wq.rows;
  if (wq.cols != Cin || dy.rows != N || dy.cols != Cout)
    throw Error("{}: backward shapes do not fit: dy {}x{}, x {}x{}, weight {}x{}", s.site.name, dy.rows, dy.cols, N,
                Cin, Cout, wq.cols);
  const Matrix dyc = contiguous(dy), xqc = contiguous(xq), wqc = contiguous(wq);
  std::optional<py::array_t<float>> dx, dw, db;
  if (need_dx) dx = new_array(xq.shape);
  if (need_dw) dw = new_array(wq.shape);
  if (need_db) db = new_array({Cout});
  float* dxp = dx ? dx->mutable_data() : nullptr;
  float* dwp = dw ? dw->mutable_data() : nullptr;
  float* dbp = db ? db->mutable_data() : nullptr;
  {
    py::gil_scoped_release release;
    std::lock_guard lock(s.mutex);
    if (dwp) std::fill(dwp, dwp + Cout * Cin, 0.0f);  // dw accumulates, as into a fresh .grad
    if (dbp) std::fill(dbp, dbp + Cout, 0.0f);
    if (dxp && Cout == 0) std::fill(dxp, dxp + N * Cin, 0.0f);
    if (N * Cin * Cout > 0) linear_backward(s.site, dyc.data, xqc.data, wqc.data, N, Cin, Cout, dxp, false, dwp);
    if (dbp) linear_bias_backward(dyc.data, N, Cout, dbp);
  }
  auto opt = [](const std::optional<py::array_t<float>>& a) { return a ? py::object(*a) : py::none(); };
  return py::make_tuple(opt(dx), opt(dw), opt(db));
}

}  // namespace

void bind_site(py::module_& m) {
  py::class_<Site>(m, "Site", R"(One GEMM site with its forward and backward arithmetic (core/gemm_site.h).

Site(arith, backward="same", seed=0, name="site"): arith and backward are spec strings
("lmul:m=4", "fp8:e4m3,scale=delayed"); backward is "same", "exact" or a spec. The Site keeps the
formats' state across calls (fp8 delayed scaling's amax history, stochastic rounding streams):
pass it where a function takes `arith` to advance that state, as one training site does.)")
      .def(py::init<const std::string&, const std::string&, uint64_t, const std::string&>(), py::arg("arith"),
           py::arg("backward") = "same", py::arg("seed") = 0, py::arg("name") = "site")
      .def_property_readonly(
          "spec", [](Site& s) { return s.site.forward->spec(); }, "The forward arithmetic's canonical spec")
      .def_property_readonly(
          "backward_spec", [](Site& s) { return s.site.backward->spec(); }, "The backward arithmetic's canonical spec")
      .def_property_readonly("backward_same", [](Site& s) { return s.site.backward_same; })
      .def_property_readonly("name", [](Site& s) { return s.site.name; })
      .def_property_readonly(
          "int8_forward", [](Site& s) { return s.site.forward->int8_forward(); },
          "True when the forward GEMM multiplies int8 codes (gemm=int)")
      .def(
          "quantize",
          [](Site& s, const py::handle& x, const std::string& role, bool backward) {
            return quantize_with(s, backward ? *s.site.backward : *s.site.forward, as_matrix(x, "quantize: x"),
                                 parse_role(role, "quantize"));
          },
          py::arg("x"), py::arg("role") = "weight", py::arg("backward") = false,
          "x rounded as the forward (or backward) arithmetic rounds a role's operand")
      .def(
          "state",
          [](Site& s) {
            std::lock_guard lock(s.mutex);
            const auto f = s.site.forward->state(), b = s.site.backward->state();
            return py::make_tuple(py::bytes(reinterpret_cast<const char*>(f.data()), f.size()),
                                  py::bytes(reinterpret_cast<const char*>(b.data()), b.size()));
          },
          "(forward, backward) state as bytes, as lmul's checkpoints store it")
      .def(
          "set_state",
          [](Site& s, const py::bytes& forward, const py::bytes& backward) {
            std::lock_guard lock(s.mutex);
            const std::string f = forward, b = backward;
            s.site.forward->set_state({reinterpret_cast<const uint8_t*>(f.data()), f.size()});
            s.site.backward->set_state({reinterpret_cast<const uint8_t*>(b.data()), b.size()});
          },
          py::arg("forward"), py::arg("backward"))
      .def(
          "gemm",
          [](Site& s, const py::handle& a_obj, const py::handle& b_obj, bool ta, bool tb, bool backward) {
            const Matrix a = as_matrix(a_obj, "gemm: a", true), b = as_matrix(b_obj, "gemm: b", true);
            const int64_t M = ta ? a.cols : a.rows, K = ta ? a.rows : a.cols;
            const int64_t Kb = tb ? b.cols : b.rows, N = tb ? b.rows : b.cols;
            if (K != Kb)
              throw Error("gemm: inner dimensions differ: a{} is {}x{}, b{} is {}x{} (check trans_a/trans_b)",
                          ta ? ".T" : "", M, K, tb ? ".T" : "", Kb, N);
            auto out = new_array({M, N});
            float* c = out.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard lock(s.mutex);
              if (M * N > 0 && K == 0) std::fill(c, c + M * N, 0.0f);
              if (M * N > 0 && K > 0)
                (backward ? s.site.backward : s.site.forward)
                    ->gemm({ta, tb, M, N, K, a.data, a.ld, b.data, b.ld, c, N, false});
            }
            return out;
          },
          py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
          py::arg("backward") = false,
          "op(a)·op(b) of operands already quantised (quantize()), products as the arithmetic forms them")
      .def("linear_forward", &linear_forward_py, py::arg("x"), py::arg("weight"), py::arg("need_grad") = true,
           R"(y = x·weightᵀ (no bias) as lmul's linear() forms it. Returns (y, xq, wq): the quantised
operands the backward needs, None where the format takes fp32 as it is (use x, weight).)")
      .def("linear_backward", &linear_backward_py, py::arg("dy"), py::arg("x"), py::arg("weight"),
           py::arg("need_dx") = true, py::arg("need_dw") = true, py::arg("need_db") = false,
           R"(The straight-through gradients of linear(): x and weight are linear_forward's xq, wq (or
the inputs where those were None). Returns (dx, dw, db), None for those not asked.)");

  m.def(
      "quantize",
      [](const py::handle& x, const SiteArg& arith, const std::string& role, uint64_t seed) {
        auto s = resolve(arith, seed);
        return quantize_with(*s.site, *s.site->site.forward, as_matrix(x, "quantize: x"), parse_role(role, "quantize"));
      },
      py::arg("x"), py::arg("arith"), py::arg("role") = "weight", py::arg("seed") = 0,
      R"(The values the format multiplies: x (float32, any shape) rounded as one tensor whose rows are
its last dimension's vectors (weights: a row is an output channel; activations: a token). A spec
string uses a fresh arithmetic (fp8's delayed scaling: scale 1, as `lmul numerics quantize`);
a Site advances its state. Formats that multiply fp32 as it is return a copy of x.)");
  m.def(
      "matmul",
      [](const py::handle& a, const py::handle& b, const SiteArg& arith, bool trans_a, bool trans_b,
         const std::string& b_role, uint64_t seed) {
        auto s = resolve(arith, seed);
        return site_matmul(*s.site, a, b, trans_a, trans_b, b_role);
      },
      py::arg("a"), py::arg("b"), py::arg("arith"), py::arg("trans_a") = false, py::arg("trans_b") = false,
      py::arg("b_role") = "weight", py::arg("seed") = 0,
      R"(C = op(a)·op(b) as a training site's forward GEMM: a quantised as activations, b as b_role
("weight": nn.Linear's (out, in) weight is b with trans_b=True; "activation": attention's
products), then the arithmetic's products summed in fp32 (L-Mul bits/formula kernels,
quantise-then-sgemm); with gemm=int and the Linear layout the int8 codes' exact integer GEMM.)");
}

}  // namespace lmul::python
