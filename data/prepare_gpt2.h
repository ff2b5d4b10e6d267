// `lmul prepare gpt2`: text -> GPT-2 token ids in OUT/train.bin and OUT/val.bin (little-endian
// uint16, byte for byte what nanoGPT's prepare.py writes) and OUT/meta.json. Inputs and split
// rules: see document_stream.h. Streams: memory stays bounded by the batch size whatever the
// input size; batches are tokenised in parallel (OpenMP) and written in input order.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lmul::data {

struct PrepareProgress {
  uint64_t bytes_done = 0, bytes_total = 0;
  uint64_t train_tokens = 0, val_tokens = 0, documents_done = 0;
  double seconds = 0;
};

struct PrepareGpt2Options {
  std::vector<std::string> inputs;
  std::string out_dir;
  std::string vocab_dir;             // encoder.json + vocab.bpe
  double val_fraction = 0.1;
  int workers = 0;                   // threads; 0 = all cores
  size_t batch_bytes = size_t{32} << 20;  // input bytes tokenised per parallel batch
  std::function<void(const PrepareProgress&)> progress;  // called after each batch
};

struct PrepareGpt2Result {
  PrepareProgress totals;
  uint64_t documents = 0, val_documents = 0;
  bool split_by_characters = false;
};

// Throws lmul::Error for bad input (missing path, empty input, bad JSONL line as file:line, bad
// vocabulary) and lmul::RuntimeFailure for I/O failures; either way no output file is replaced.
PrepareGpt2Result prepare_gpt2(const PrepareGpt2Options& options);

}  // namespace lmul::data
