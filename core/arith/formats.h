// Factories of the formats in the registry table (one .cpp per format under core/arith/).
#pragma once
#include <memory>
#include <string_view>

#include "core/arith/arith.h"

namespace lmul::arith {

std::unique_ptr<Multiplier> make_exact(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_float(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_bf16(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_fp16(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_fp8(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_lmul(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_pot(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_int(std::string_view options, uint64_t seed);
std::unique_ptr<Multiplier> make_ternary(std::string_view options, uint64_t seed);

}  // namespace lmul::arith
