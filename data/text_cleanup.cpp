#include "data/text_cleanup.h"

#include "data/utf8.h"

namespace lmul::data {
namespace {

bool python_isspace(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

std::string hf_openwebtext_clean(std::string_view s, bool first, bool last) {
  size_t begin = 0, end = s.size();
  if (first)
    while (begin < end) {
      const Utf8Char c = decode_utf8(s, begin);
      if (!python_isspace(c.cp)) break;
      begin += c.len;
    }
  if (last)
    while (end > begin) {
      size_t start = end - 1;  // the last character: back over up to 3 continuation bytes
      while (start > begin && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      const Utf8Char c = decode_utf8(s.substr(0, end), start);
      if (start + c.len != end || !python_isspace(c.cp)) break;
      end = start;
    }
  std::string out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end;) {
    size_t nl = s.find('\n', i);
    if (nl == std::string_view::npos || nl >= end) nl = end;
    out.append(s.substr(i, nl - i));
    size_t run = nl;
    while (run < end && s[run] == '\n') ++run;
    out.append(run - nl >= 3 ? 2 : run - nl, '\n');
    i = run;
  }
  return out;
}

}  // namespace lmul::data
