// The logic behind `lmul numerics intop OP` (kept here so it is testable without the CLI): read
// integer rows, apply one integer operator per row, print integer rows and the output scale.
//   shiftmax    --scale S [--bits B=8] [--causal]   rows of scores; line i keeps columns j ≤ i
//                                                   with --causal (masked: excluded, output 0)
//   shiftgelu   --scale S [--bits B=8]              rows of features (one token per line)
//   ilayernorm  [--weight w,...] [--bias b,...]     rows of C channels (weight 1, bias 0 default;
//                                                   one value is used for every channel)
//   requant     --multiplier M [--scale S=1] [--bits B]   first line "m e", then each value
//                                                   requantised; clamped only when --bits is given
// Output: the rows, space-separated integers, then "scale ..." (one value, or one per channel
// for ilayernorm), each the shortest decimal that reads back as the same float32.
#pragma once
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::integer {

struct IntopRequest {
  std::string op;                    // shiftmax | shiftgelu | ilayernorm | requant
  std::optional<float> scale;        // the input scale (float32)
  std::optional<int> bits;           // output bits (shiftmax, shiftgelu), clamp bits (requant)
  bool causal = false;               // shiftmax only
  std::vector<float> weight, bias;   // ilayernorm only
  std::optional<double> multiplier;  // requant only
};

// Lines of whitespace-separated integers within the int32 range (blank lines skipped); a bad
// word throws lmul::Error "<what> line N: ...".
std::vector<std::vector<int32_t>> read_integer_rows(std::istream& in, std::string_view what);

// Checks the options against the op (a one-line lmul::Error naming the option), runs it, and
// returns the text to print.
std::string run_intop(const IntopRequest& r, std::istream& in);

// One number, correctly rounded to T (std::from_chars, not strtold then a cast, which can round
// twice); throws lmul::Error naming `option`.
template <typename T>
T parse_number(std::string_view text, std::string_view option);

// "1,2.5,-3" → floats; throws lmul::Error naming `option` on a bad number.
std::vector<float> parse_float_list(std::string_view text, std::string_view option);

}  // namespace lmul::integer
