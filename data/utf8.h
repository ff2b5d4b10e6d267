// Minimal UTF-8 decoding/encoding of code points (for the char-level vocabulary).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace lmul::data {

// Decodes the code point at s[i], advancing i. Returns -1 for an invalid sequence (i advanced by 1).
int32_t utf8_next(std::string_view s, size_t& i);
std::string utf8_encode(int32_t cp);

}  // namespace lmul::data
