// The text clean-up of Hugging Face's openwebtext loader, which nanoGPT's openwebtext/prepare.py
// reads through: every document is re.sub("\n\n\n+", "\n\n", text).strip() — runs of three or
// more newlines become two, and Python's str.strip() removes leading and trailing whitespace
// (str.isspace: U+0009–000D, U+001C–001F, space, U+0085, U+00A0, U+1680, U+2000–200A, U+2028,
// U+2029, U+202F, U+205F, U+3000). Bytes that are not valid UTF-8 count as non-space (HF would
// refuse such a document; lmul keeps it).
#pragma once
#include <string>
#include <string_view>

namespace lmul::data {

// Cleans one piece of a document: first/last say whether it starts/ends the document (only
// there is whitespace stripped). Pieces cut by pretoken_safe_split (after a non-space ASCII byte)
// clean to exactly the pieces of the cleaned whole document.
std::string hf_openwebtext_clean(std::string_view piece, bool first, bool last);

}  // namespace lmul::data
