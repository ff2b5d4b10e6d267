// Strict UTF-8 decoding of one character (no overlongs, no surrogates, nothing above U+10FFFF).
// An invalid or truncated sequence decodes as one byte of length 1 with code point -1, so that a
// caller can treat each bad byte as a character of its own and keep the exact bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lmul::data {

struct Utf8Char {
  int32_t cp;  // code point, or -1 for an invalid byte
  int len;     // bytes consumed, 1..4
};

inline Utf8Char decode_utf8(const unsigned char* s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return {static_cast<int32_t>(c), 1};
  int len;
  uint32_t cp, min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    min = 0x10000;
  } else
    return {-1, 1};
  if (n < static_cast<size_t>(len)) return {-1, 1};
  for (int i = 1; i < len; ++i) {
    unsigned b = s[i];
    if ((b & 0xC0) != 0x80) return {-1, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {-1, 1};
  return {static_cast<int32_t>(cp), len};
}

inline Utf8Char decode_utf8(std::string_view s, size_t pos) {
  return decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + pos, s.size() - pos);
}

// Offset of the first byte that is not part of a valid UTF-8 character, or npos when all of s is.
inline size_t first_invalid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = decode_utf8(s, i);
    if (c.cp < 0) return i;
    i += static_cast<size_t>(c.len);
  }
  return std::string_view::npos;
}

}  // namespace lmul::data
