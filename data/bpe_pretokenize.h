// GPT-2's pre-tokenizer, written out by hand instead of run through a regex engine:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// \p{L} / \p{N} are the Unicode general categories L* / N*, \s is the White_Space property (ICU),
// as in tiktoken. Bytes that are not valid UTF-8 count one by one as "other" characters (class of
// U+FFFD, which is what a lossy decode would put there), so every byte string splits into pieces
// whose concatenation is the input and the pieces of valid text are exactly tiktoken's.
#pragma once
#include <cstddef>
#include <string_view>

namespace lmul::data {

// End (exclusive) of the piece that starts at pos < text.size().
size_t pretoken_end(std::string_view text, size_t pos);

// Calls fn(piece) for each piece of text, in order.
template <typename Fn>
void for_each_pretoken(std::string_view text, Fn&& fn) {
  for (size_t pos = 0; pos < text.size();) {
    size_t end = pretoken_end(text, pos);
    fn(text.substr(pos, end - pos));
    pos = end;
  }
}

// A split point at or after `from` where cutting the text changes no piece: just after an ASCII
// printable non-space byte and just before an ASCII whitespace byte. No piece spans it (a run of
// letters/numbers/others stops at whitespace; whitespace pieces start after it) and the matches on
// either side look at nothing across it. Returns text.size() when there is none.
size_t pretoken_safe_split(std::string_view text, size_t from);

}  // namespace lmul::data
