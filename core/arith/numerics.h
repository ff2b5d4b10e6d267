// The logic behind `lmul numerics` (docs/ARCHITECTURE.md §3), kept here so it is testable
// without the CLI: read numbers, quantise them, multiply pairs, measure product errors.
#pragma once
#include <cstdint>
#include <istream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/arith/arith.h"

namespace lmul::arith {

// Reads lines of exactly `fields` numbers (whitespace-separated; inf/nan accepted; blank lines
// skipped). A bad line throws lmul::Error "<what> line N: ...".
std::vector<std::vector<float>> read_number_lines(std::istream& in, int fields, std::string_view what);

// The values quantised as ONE 1×n tensor of the given role (a row: one weight channel, one
// token), so per-tensor statistics (pot's max, ternary's mean, fp8 scale=current) see them all.
// A fresh Multiplier quantises them, so fp8's delayed scaling (the default; its history is still
// empty) and scale=none use scale 1; scale=current scales by their amax. Values the arithmetic
// takes as they are come back unchanged.
std::vector<float> quantize_values(std::string_view spec, std::span<const float> xs, Role role, uint64_t seed);

// The products x_i·y_i of a dot product as the arithmetic forms them: the x form one token of
// activations, the y one channel of weights (Y = X·Wᵀ), each quantised as a 1×n tensor; then
// every product is a 1×1×1 GEMM with the arithmetic's products (with gemm=int, a 1×1×1
// int8_linear of the codes: (q_x·q_y) ⊙ s_x ⊙ s_y).
std::vector<float> multiply_pairs(Multiplier& m, std::span<const float> xs, std::span<const float> ys);
float multiply(Multiplier& m, float x, float y);  // one pair

struct ProductError {
  std::string spec;  // canonical
  int64_t n = 0;
  double mean = 0, max = 0;  // relative to the exact fp32 product
};

// n pairs of independent standard-normal operands (from seed) multiplied by the arithmetic (as
// multiply_pairs does).
// round_product: also round each product with the arithmetic's own quantiser (activation role),
// as a multiplier whose output is in the format would — e.g. an fp8 × fp8 → fp8 product. That is
// what the L-Mul paper's fp8 comparison and the independently measured E4M3/E5M2 figures assume; GEMMs here
// accumulate the exact products in fp32 instead (as tensor cores do). L-Mul bits products of
// M-bit operands already have M bits, so for them the option changes nothing. With fp8's delayed
// scaling the products are rounded with the scale the operands' amax history gave (the paper's
// unscaled fp8 comparison is scale=none).
ProductError product_error(std::string_view spec, int64_t n, uint64_t seed, bool round_product = false);

// The table `lmul numerics error` prints.
std::string format_product_errors(std::span<const ProductError> rows);

}  // namespace lmul::arith
