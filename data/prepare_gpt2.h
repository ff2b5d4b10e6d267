// `lmul prepare gpt2`: text -> GPT-2 token ids in OUT/train.bin and OUT/val.bin (little-endian
// uint16, byte for byte what nanoGPT's prepare.py writes for the same documents in the same
// order) and OUT/meta.json. Inputs (text, .jsonl, directories, nested tar/xz/gz/zst/bz2
// archives) and the split: document_stream.h, document_split.h.
//
// Streams: a reading thread gathers units of input into batches of bounded size, the calling
// thread decompresses (archive members) and tokenises each batch in parallel (OpenMP), a writing
// thread appends the ids in input order; the three overlap. Memory stays bounded by a few batches
// whatever the corpus size, and the output does not depend on the thread count or batch size. Outputs are written under
// temporary names and renamed at the end; meta.json (with the counts and each file's CRC-32) is written last, after the
// old one is removed: an interrupted run leaves *.tmp files (truncated by the next run), never a train.bin or val.bin
// that meta.json vouches for but that is incomplete.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lmul::data {

struct PrepareProgress {
  uint64_t bytes_done = 0, bytes_total = 0;  // input file bytes (compressed, for archives)
  uint64_t text_bytes = 0;                   // document bytes tokenised (after decompression)
  uint64_t train_tokens = 0, val_tokens = 0, documents_done = 0;
  double seconds = 0;           // since the vocabulary was loaded
  double parallel_seconds = 0;  // of those, in the parallel decompress-and-tokenise phases (final totals only)
};

enum class TextCleanup { none, hf_openwebtext };

struct PrepareGpt2Options {
  std::vector<std::string> inputs;
  std::string out_dir;
  std::string vocab_dir;  // encoder.json + vocab.bpe
  // F: < 0 picks nanoGPT's: 0.1 of the characters for one text file (shakespeare), 0.0005 of the
  // documents otherwise (openwebtext).
  double val_fraction = -1;
  uint64_t seed = 2357;  // of the document split (nanoGPT's train_test_split seed)
  TextCleanup cleanup = TextCleanup::none;
  int workers = 0;                               // threads; 0 = all cores
  size_t batch_bytes = 0;                        // input bytes per parallel batch; 0 = max(32 MB, 8 MB per worker)
  size_t whole_member_bytes = size_t{64} << 20;  // nested archives up to this size go to a worker whole
  std::function<void(const PrepareProgress&)> progress;  // called after each batch
};

struct PrepareGpt2Result {
  PrepareProgress totals;
  uint64_t documents = 0, val_documents = 0;
  uint64_t invalid_utf8_documents = 0;  // kept byte for byte (byte-level BPE encodes any bytes)
  uint64_t skipped_members = 0;         // archive members that are no document (not .txt/.jsonl/archive)
  bool split_by_characters = false;
  double val_fraction = 0;
  uint32_t train_crc32 = 0, val_crc32 = 0;
};

// Throws lmul::Error for bad input (missing path, empty input, bad JSONL line as file:line,
// corrupt or truncated archive as archive/member, unsupported format, bad vocabulary) and
// lmul::RuntimeFailure for I/O failures; either way no output file is replaced.
PrepareGpt2Result prepare_gpt2(const PrepareGpt2Options& options);

}  // namespace lmul::data
