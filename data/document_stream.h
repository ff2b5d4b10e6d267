// The documents of `lmul prepare gpt2`, streamed in input order as work units small enough to
// tokenise in parallel, in constant memory whatever the corpus size (plain files are
// memory-mapped; archives are decompressed as a stream, never unpacked to disk).
//
// Inputs, in the order given (a directory's entries sorted by name):
//   * a text file: one document;
//   * a .jsonl file: one document per non-blank line, its "text" string field;
//   * a directory: its .txt, .jsonl and archive files (below), sorted by name; other files ignored;
//   * an archive or compressed file (.tar, .tar.xz, .tgz, .xz, .gz, .zst, .bz2, ...): each member
//     that is a regular file counts by its name — .txt is one document, .jsonl one per line, a
//     tar or compressed member is read as an archive of its own (nested to any depth, e.g.
//     OpenWebText's subsets/urlsf_subset00.tar of .xz files, each a tar of .txt files); other
//     members are skipped (counted). A compressed file that holds no tar is one stream: a .jsonl
//     when its name without the compression suffix ends in .jsonl (pile.jsonl.zst), else one
//     text document. Members come in the archive's own order (a stream cannot be sorted without
//     reading it twice; the archive's bytes fix the order, so it is deterministic).
// Split: with exactly one input that is a plain text file, the text is cut at a fraction of its
// characters (nanoGPT shakespeare: the first 90 % of characters train, the rest val, each part
// encoded on its own, no end-of-text token); otherwise every document is followed by
// <|endoftext|> and the writer assigns whole documents to val (document_split.h).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::data {

class ArchiveReader;

struct WorkUnit {
  enum class Kind {
    text,     // bytes: (a piece of) a document
    jsonl,    // bytes: one JSON line whose "text" field is the document
    archive,  // bytes: a whole archive member (e.g. one .xz of OpenWebText) to open and walk
  };
  Kind kind = Kind::text;
  std::string_view bytes;
  bool first = true;                          // text: the piece starts its document
  bool eot = false;                           // text, jsonl: an <|endoftext|> follows (the unit ends a document)
  bool val = false;                           // split by characters: the piece is val text
  std::shared_ptr<const void> keep;           // owns the memory bytes points into
  std::shared_ptr<const std::string> origin;  // file or archive/member path, for errors
  uint64_t line = 0;                          // JSONL line number (1-based)
};

using UnitSink = std::function<void(WorkUnit&&)>;

class DocumentStream {
 public:
  // Checks and lists the inputs (nothing is read yet). Throws lmul::Error for a missing path, an
  // unreadable directory or one with no inputs in it, an unsupported archive format (.zip, .7z,
  // .rar) or an empty single text file.
  explicit DocumentStream(const std::vector<std::string>& inputs);

  // Calls emit for every unit, in input order. char_val_fraction: the val part when the text is
  // split by characters. Archive members of at most `whole_member_bytes`
  // that are archives themselves come whole as one Kind::archive unit (a worker decompresses
  // them: this is what spreads decompression over threads); larger ones are read here.
  // Throws lmul::Error for corrupt or truncated archives (naming archive/member).
  void run(const UnitSink& emit, double char_val_fraction, size_t whole_member_bytes = size_t{64} << 20);

  bool split_by_characters() const { return by_chars_; }
  uint64_t total_bytes() const { return total_bytes_; }  // the input files' sizes
  uint64_t bytes_done() const { return bytes_done_; }    // of those, read so far
  uint64_t skipped_members() const { return skipped_; }
  std::vector<std::string> files() const;

  static constexpr size_t kChunkBytes = size_t{1} << 20;

 private:
  enum class Kind { text, jsonl, archive };
  struct Input {
    std::string path;
    Kind kind;
  };
  void run_mapped(const Input& in, const UnitSink& emit, double char_val_fraction);
  void run_archive(const Input& in, const UnitSink& emit, size_t whole_member_bytes);

  std::vector<Input> files_;
  bool by_chars_ = false;
  uint64_t total_bytes_ = 0, bytes_done_ = 0, skipped_ = 0;
};

// Walks an open archive, emitting its documents as units; nested archives larger than
// whole_member_bytes (all of them when 0) are opened in place over the enclosing stream.
// Counts members that are no document in *skipped.
void walk_archive(ArchiveReader& r, const UnitSink& emit, size_t whole_member_bytes, uint64_t* skipped);

// True when a JSONL line holds no document (only spaces, tabs, carriage returns).
bool is_blank_line(std::string_view line);

}  // namespace lmul::data
