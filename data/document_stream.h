// The documents of `lmul prepare gpt2`, streamed in order as work units small enough to tokenise
// in parallel without holding an input in memory (files are memory-mapped, read once).
//
// Inputs: a text file (one document), a directory (its *.txt files in sorted order, one document
// each), or a .jsonl file (one document per non-blank line, in its "text" string field).
// Split: with exactly one input that is a text file, the text is cut at a fraction of its
// characters (nanoGPT shakespeare: first 90 % of characters train, the rest val, each part
// encoded on its own, no end-of-text token); otherwise the split is by documents (the last
// val_fraction of documents go to val, as nanoGPT's openwebtext holds out whole documents) and
// every document is followed by <|endoftext|>.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/mapped_file.h"

namespace lmul::data {

struct WorkUnit {
  std::string_view bytes;             // raw text, or one JSON line when jsonl is set
  bool jsonl = false;                 // bytes is a JSON object whose "text" field is the text
  bool eot = false;                   // an <|endoftext|> follows (the unit ends a document)
  bool val = false;                   // goes to val.bin
  std::shared_ptr<MappedFile> file;   // keeps bytes mapped; its path names errors
  uint64_t line = 0;                  // JSONL line number (1-based) for errors
};

class DocumentStream {
 public:
  // Checks and counts the inputs (a pass over each .jsonl file to count its lines). Throws
  // lmul::Error for a missing path, an unreadable or .txt-less directory, or no documents at all.
  DocumentStream(const std::vector<std::string>& inputs, double val_fraction);

  // The next unit in input order; false at the end. Large documents come in several units, cut
  // where the pre-tokenizer gives the same pieces (pretoken_safe_split), at most ~chunk_bytes each.
  bool next(WorkUnit& unit);

  bool split_by_characters() const { return by_chars_; }
  uint64_t documents() const { return n_docs_; }
  uint64_t val_documents() const { return n_val_docs_; }
  uint64_t total_bytes() const { return total_bytes_; }
  std::vector<std::string> files() const;

  static constexpr size_t kChunkBytes = size_t{1} << 20;

 private:
  struct Input {
    std::string path;
    bool jsonl;
  };
  bool open_next_file();

  std::vector<Input> files_;
  bool by_chars_ = false;
  uint64_t n_docs_ = 0, n_val_docs_ = 0, total_bytes_ = 0;
  size_t char_cut_ = 0;  // byte offset of the train/val cut (split by characters)

  // Position in the stream.
  size_t file_index_ = 0;
  std::shared_ptr<MappedFile> file_;
  size_t pos_ = 0;
  uint64_t line_ = 0;
  uint64_t doc_index_ = 0;
};

// True when a JSONL line holds no document (only spaces, tabs, carriage returns).
bool is_blank_line(std::string_view line);

}  // namespace lmul::data
