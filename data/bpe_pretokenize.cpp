#include "data/bpe_pretokenize.h"

#include <cstdint>
#include <vector>

#include <unicode/uchar.h>

#include "data/utf8.h"

namespace lmul::data {
namespace {

enum CharClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

CharClass classify_icu(UChar32 cp) {
  if (u_hasBinaryProperty(cp, UCHAR_WHITE_SPACE)) return kSpace;
  uint32_t mask = U_GET_GC_MASK(cp);
  if (mask & U_GC_L_MASK) return kLetter;
  if (mask & U_GC_N_MASK) return kNumber;
  return kOther;
}

// Classes of the Basic Multilingual Plane, computed once; the other planes ask ICU each time.
const std::vector<uint8_t>& bmp_classes() {
  static const std::vector<uint8_t> table = [] {
    std::vector<uint8_t> t(0x10000);
    for (UChar32 cp = 0; cp < 0x10000; ++cp) t[cp] = classify_icu(cp);
    return t;
  }();
  return table;
}

struct Char {
  CharClass cls;
  int len;
};

inline Char char_at(const unsigned char* s, size_t n, const uint8_t* bmp) {
  if (s[0] < 0x80) return {static_cast<CharClass>(bmp[s[0]]), 1};
  Utf8Char c = decode_utf8(s, n);
  if (c.cp < 0) return {kOther, 1};
  return {c.cp < 0x10000 ? static_cast<CharClass>(bmp[c.cp]) : classify_icu(c.cp), c.len};
}

// End of the run of characters of class cls starting at pos (text[pos] is of that class).
inline size_t run_end(const unsigned char* s, size_t n, size_t pos, CharClass cls, const uint8_t* bmp) {
  while (pos < n) {
    Char c = char_at(s + pos, n - pos, bmp);
    if (c.cls != cls) break;
    pos += c.len;
  }
  return pos;
}

// Length of the contraction 's 't 're 've 'm 'll 'd at s (s[0] == '\''), or 0.
inline size_t contraction_len(const unsigned char* s, size_t n) {
  if (n >= 2) {
    unsigned char a = s[1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (n >= 3) {
      unsigned char b = s[2];
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
  }
  return 0;
}

}  // namespace

size_t pretoken_end(std::string_view text, size_t pos) {
  static const uint8_t* bmp = bmp_classes().data();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();

  if (s[pos] == '\'') {
    if (size_t k = contraction_len(s + pos, n - pos)) return pos + k;
  }
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space joins the run after it.
  if (s[pos] == ' ' && pos + 1 < n) {
    Char c = char_at(s + pos + 1, n - pos - 1, bmp);
    if (c.cls != kSpace) return run_end(s, n, pos + 1 + c.len, c.cls, bmp);
  }
  Char first = char_at(s + pos, n - pos, bmp);
  if (first.cls != kSpace) return run_end(s, n, pos + first.len, first.cls, bmp);

  // Whitespace. `\s+(?!\S)`: the whole run if it reaches the end of the text; otherwise the run
  // less its last character (which then leads the next piece, e.g. " word"), as long as that
  // leaves something. Else `\s+`: the single whitespace character.
  size_t last = pos, end = pos + first.len;
  while (end < n) {
    Char c = char_at(s + end, n - end, bmp);
    if (c.cls != kSpace) break;
    last = end;
    end += c.len;
  }
  if (end == n) return end;
  return last > pos ? last : end;
}

size_t pretoken_safe_split(std::string_view text, size_t from) {
  if (from == 0) from = 1;
  for (size_t p = from; p < text.size(); ++p) {
    unsigned char c = static_cast<unsigned char>(text[p]);
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      unsigned char prev = static_cast<unsigned char>(text[p - 1]);
      if (prev > ' ' && prev < 0x7F) return p;
    }
  }
  return text.size();
}

}  // namespace lmul::data
