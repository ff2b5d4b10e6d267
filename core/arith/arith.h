// The arithmetic seam: every GEMM of a model goes through a Multiplier (docs/ARCHITECTURE.md §3).
// A leaf library: raw pointers and a GEMM description, no Tensor.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::arith {

// Which operand a value is; decides how a format quantises it: weights per tensor / channel
// (a channel is a row of a rows×cols weight, i.e. an output feature of nn.Linear's (out, in)
// weight), activations per tensor or per token (a token is a row), gradients with the
// gradient format (fp8:hybrid → E5M2).
enum class Role { weight, activation, gradient };

// C = op(A)·op(B), all row-major fp32. op(A) is M×K, op(B) is K×N, C is M×N (row stride ldc).
// ta: A is stored K×M (row stride lda) and used transposed; likewise tb for B stored N×K.
// accumulate: C += op(A)·op(B) instead of C = op(A)·op(B).
struct Gemm {
  bool ta = false, tb = false;
  int64_t M = 0, N = 0, K = 0;
  const float* A = nullptr;
  int64_t lda = 0;
  const float* B = nullptr;
  int64_t ldb = 0;
  float* C = nullptr;
  int64_t ldc = 0;
  bool accumulate = false;
};

// An operand as int8 codes (Multiplier::int8_codes): value(i, j) = code[i·cols + j] · scale(i), or
// code[i·cols + j] / scale(i) when divide is set (BitNet's activations keep s = 127/absmax and divide
// by it). scale holds one value per row, or a single value for the whole operand. An integer code
// cannot carry a NaN: a NaN element gets code 0 and nan_row[i] = 1, and int8_linear() makes every
// product of that row NaN (nan_row is empty when the operand has none).
struct Int8Codes {
  std::vector<int8_t> code;
  std::vector<float> scale;
  bool divide = false;
  std::vector<uint8_t> nan_row;
  float scale_of(int64_t row) const { return scale.size() == 1 ? scale[0] : scale[static_cast<size_t>(row)]; }
};

// One multiply arithmetic. A model owns one instance per GEMM site and pass, so an instance may
// keep state (delayed-scaling amax history, a stochastic-rounding generator).
class Multiplier {
 public:
  virtual ~Multiplier() = default;

  // Canonical spec string with every option spelled out, e.g. "lmul:m=4,variant=bits,round=rne".
  virtual std::string spec() const = 0;

  // Rounds a rows×cols operand (row stride ld) into out (contiguous rows×cols) as the values this
  // arithmetic multiplies (dequantised: fp32 numbers equal to the format's values times scale).
  // Returns false and writes nothing when the arithmetic takes fp32 operands as they are.
  virtual bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) = 0;

  // Forms the products of already-quantised operands as this arithmetic does, sums in fp32.
  // May use the OpenMP pool (nested calls from a parallel region run on one thread).
  virtual void gemm(const Gemm& g) = 0;

  // The integer forward (`gemm=int` of int and ternary): true when a Linear layer's forward GEMM
  // Y = X·Wᵀ multiplies int8 codes of X (Role::activation) and W (Role::weight) with exact int32
  // sums (int8_linear.h) instead of calling gemm() on the quantised values. Backward GEMMs still
  // multiply quantize()'s values with gemm(); other GEMM sites (attention) are unchanged.
  virtual bool int8_forward() const { return false; }
  // Only where int8_forward(): the codes of the operand quantize(role, ...) rounds — the same grid
  // points, the same scales, without the rounding of q·s to fp32.
  virtual void int8_codes(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out);
  // int8_codes() and, into values (contiguous rows×cols), the bits quantize(role, ...) writes — both
  // from one pass where the format can (a Linear layer's forward needs the codes, its backward the
  // values; values may be null: the codes alone). The default calls the two.
  virtual void int8_codes_and_values(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, Int8Codes& out,
                                     float* values);

  // batch GEMMs g_i = g with A, B, C advanced by i·stride_a, i·stride_b, i·stride_c floats.
  virtual void gemm_batched(const Gemm& g, int64_t batch, int64_t stride_a, int64_t stride_b, int64_t stride_c);

  // State kept across steps, for checkpoints (empty for stateless arithmetics).
  virtual std::vector<uint8_t> state() const { return {}; }
  virtual void set_state(std::span<const uint8_t> /*state*/) {}
};

// The exact fp32 GEMM (OpenBLAS sgemm): the reference every format's fast path reduces to.
void sgemm(const Gemm& g);

// Parses a spec string ("exact", "lmul:m=4", "fp8:e4m3,scale=delayed", ...) into a fresh
// Multiplier. seed feeds stochastic rounding. Throws lmul::Error naming the spec, the bad part
// and the allowed values.
std::unique_ptr<Multiplier> make_multiplier(std::string_view spec, uint64_t seed = 0);

class ExportCodec;  // export_codec.h

// One row of the table of number formats (registry.cpp): every facet of a format, defined in the
// format's own file. The table is also what `lmul numerics --list` prints. Functions take the
// options, the spec after "name:" (empty when there is none).
struct FormatInfo {
  const char* name;     // "exact", "float", "fp8", "lmul", ...
  const char* help;     // one line: options (* marks the default of a choice) and meaning
  const char* example;  // a spec of this format, e.g. "lmul:m=4"
  std::unique_ptr<Multiplier> (*make)(std::string_view options, uint64_t seed);
  // The scalar reference of the first quantize() of a fresh make(options, seed) on a contiguous
  // rows×cols operand: one value at a time with the format's *_ref function, scales computed in
  // plain loops. Returns false where quantize() does (the role's operands stay fp32). Every
  // built-in row has one; a format registered at run time may leave it null.
  bool (*reference_quantize)(std::string_view options, uint64_t seed, Role role, const float* x, int64_t rows,
                             int64_t cols, float* out) = nullptr;
  // The scalar reference of one product of two quantised operands; nullptr: the fp32 product.
  float (*reference_product)(std::string_view options, float a, float b) = nullptr;
  // The packed export codec (`lmul export --format`); nullptr when the format has none.
  std::unique_ptr<ExportCodec> (*make_codec)(std::string_view options) = nullptr;
  const char* export_help = nullptr;  // the export specs it takes, e.g. "pot:b=2..4"
};
std::span<const FormatInfo> formats();
// Adds a format at run time (a program's own arithmetic, e.g. examples/custom_format.cpp): from then
// on its name works in every spec string — configs, --set, sweeps. Throws lmul::Error when the name
// is taken or a required facet (name, help, example, make) is missing. Not thread-safe: register
// before training starts.
void register_format(const FormatInfo& format);

}  // namespace lmul::arith
