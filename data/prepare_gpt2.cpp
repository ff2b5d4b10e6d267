#include "data/prepare_gpt2.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/archive_reader.h"
#include "data/bounded_queue.h"
#include "data/bpe_tokenizer.h"
#include "data/document_split.h"
#include "data/document_stream.h"
#include "data/text_cleanup.h"
#include "data/token_file.h"
#include "data/utf8.h"

namespace lmul::data {
namespace fs = std::filesystem;
namespace {

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const Utf8Char c = decode_utf8(s, i);
    if (c.cp < 0) return false;
    i += c.len;
  }
  return true;
}

// One unit's ids: the pieces of documents it holds (one, or all of an archive member's), each
// ending at `end` in ids (EOT included).
struct Piece {
  size_t end;
  bool eot, val, invalid_utf8;
};
struct UnitResult {
  std::vector<uint16_t> ids;
  std::vector<Piece> pieces;
  uint64_t skipped_members = 0, text_bytes = 0;
};

class UnitTokenizer {
 public:
  UnitTokenizer(const BpeTokenizer& tok, TextCleanup cleanup, bool eot) : tok_(tok), cleanup_(cleanup), eot_(eot) {}

  void run(const WorkUnit& u, UnitResult& out) {
    switch (u.kind) {
      case WorkUnit::Kind::text:
        piece(u, u.bytes, out);
        break;
      case WorkUnit::Kind::jsonl:
        piece(u, jsonl_text(u), out);
        break;
      case WorkUnit::Kind::archive: {
        auto reader = ArchiveReader::open_memory(u.bytes, *u.origin);
        walk_archive(
            *reader, [&](WorkUnit&& inner) { run(inner, out); }, 0, &out.skipped_members);
        break;
      }
    }
  }

 private:
  // The text of a JSONL unit: the "text" field of its JSON object.
  std::string jsonl_text(const WorkUnit& u) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(u.bytes);
    } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number like 1e400
      throw Error("{}:{}: not valid JSON ({})", *u.origin, u.line, e.what());
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw Error("{}:{}: expected an object with a string field \"text\"", *u.origin, u.line);
    return j["text"].get<std::string>();
  }

  void piece(const WorkUnit& u, std::string_view text, UnitResult& out) {
    std::string cleaned;
    if (cleanup_ == TextCleanup::hf_openwebtext) {
      const bool jsonl = u.kind == WorkUnit::Kind::jsonl;
      cleaned = hf_openwebtext_clean(text, jsonl || u.first, jsonl || u.eot);
      text = cleaned;
    }
    ids_.clear();
    tok_.encode_into(text, ids_);
    if (eot_ && u.eot) ids_.push_back(tok_.eot_id());
    out.ids.insert(out.ids.end(), ids_.begin(), ids_.end());  // < 65536: checked at start
    out.pieces.push_back({out.ids.size(), u.eot, u.val, !is_valid_utf8(text)});
    out.text_bytes += text.size();
  }

  const BpeTokenizer& tok_;
  TextCleanup cleanup_;
  bool eot_;
  std::vector<int> ids_;
};

// Writes pieces in order to train or val: whole documents by DocumentSplit, or by the pieces' own
// val flags when the text is split by characters.
class SplitWriter {
 public:
  SplitWriter(TokenFile& train, TokenFile& val, double fraction, uint64_t seed, bool by_chars)
      : train_(train), val_(val), split_(fraction, seed), fraction_(fraction), by_chars_(by_chars) {}

  void add(const UnitResult& r) {
    size_t begin = 0;
    for (const Piece& p : r.pieces) {
      std::span<const uint16_t> ids(r.ids.data() + begin, p.end - begin);
      begin = p.end;
      if (by_chars_) {
        (p.val ? val_ : train_).append(ids);
        continue;
      }
      if (!in_doc_) {
        in_doc_ = true;
        doc_val_ = split_.is_val(documents);
        doc_invalid_ = false;
        if (!doc_val_) last_train_doc_ = train_.mark();
      }
      (doc_val_ ? val_ : train_).append(ids);
      doc_invalid_ |= p.invalid_utf8;
      if (p.eot) {
        in_doc_ = false;
        ++documents;
        val_documents += doc_val_;
        invalid_utf8_documents += doc_invalid_;
      }
    }
  }

  // A corpus too small for F to pick any document still gets one val document: the last.
  void finish() {
    LMUL_ASSERT(!in_doc_);
    if (by_chars_ || fraction_ <= 0 || val_documents > 0 || documents < 2) return;
    train_.move_tail_to(last_train_doc_, val_);
    val_documents = 1;
  }

  uint64_t documents = 0, val_documents = 0, invalid_utf8_documents = 0;

 private:
  TokenFile &train_, &val_;
  DocumentSplit split_;
  double fraction_;
  bool by_chars_;
  bool in_doc_ = false, doc_val_ = false, doc_invalid_ = false;
  TokenFile::Mark last_train_doc_;
};

std::string hex32(uint32_t v) { return fmt::format("{:08x}", v); }

}  // namespace

PrepareGpt2Result prepare_gpt2(const PrepareGpt2Options& opt) {
  BpeTokenizer tok(opt.vocab_dir);
  // Timed from here: the data path, not the vocabulary load (a few seconds, once).
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  if (tok.vocab_size() > 65536) throw Error("{}: {} tokens do not fit uint16", opt.vocab_dir, tok.vocab_size());
  if (!(opt.val_fraction < 1.0)) throw Error("[prepare] --val-fraction {} is outside [0, 1)", opt.val_fraction);
  // The stream checks the inputs before any output file is touched.
  DocumentStream docs(opt.inputs);
  const bool by_chars = docs.split_by_characters();
  const double fraction = opt.val_fraction >= 0 ? opt.val_fraction : by_chars ? 0.1 : 0.0005;
  if (by_chars && opt.cleanup != TextCleanup::none)
    throw Error(
        "[prepare] --text-cleanup applies to documents; {} is one text file, split by characters "
        "(give it in a directory to make it one document)",
        opt.inputs[0]);

  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir)) throw Error("{}: cannot create output directory ({})", opt.out_dir, ec.message());
  TokenFile train(opt.out_dir + "/train.bin"), val(opt.out_dir + "/val.bin");
  SplitWriter writer(train, val, fraction, opt.seed, by_chars);

  const int workers = opt.workers > 0 ? opt.workers : omp_get_max_threads();
  const size_t batch_budget =
      opt.batch_bytes > 0 ? opt.batch_bytes : std::max<size_t>(size_t{32} << 20, size_t(workers) * (4 << 20));
  PrepareProgress progress;  // the writing thread's until it has ended
  progress.bytes_total = docs.total_bytes();
  uint64_t skipped_in_workers = 0;

  // Three stages overlap: a reading thread walks the inputs into batches (and decompresses what is
  // not handed on whole), this thread decompresses and tokenises each batch with the workers, a
  // writing thread appends the ids in input order. Queues of depth 1: at most about five batches
  // are in memory (one being read, one queued, one tokenised, one queued, one being written).
  struct Batch {
    std::vector<WorkUnit> units;
    std::vector<UnitResult> results;
    uint64_t bytes_done = 0;
  };
  struct Cancelled {};
  BoundedQueue<Batch> to_tokenise(1), to_write(1);
  std::exception_ptr read_error, tokenise_error, write_error;

  std::thread reader([&] {
    try {
      Batch batch;
      size_t cost = 0;
      auto send = [&] {
        batch.bytes_done = docs.bytes_done();
        if (!to_tokenise.push(std::move(batch))) throw Cancelled{};
        batch = Batch{};
        cost = 0;
      };
      docs.run(
          [&](WorkUnit&& u) {
            // A whole archive member costs about its decompressed size (xz/zstd text: ~3-4x).
            cost += u.kind == WorkUnit::Kind::archive ? 4 * u.bytes.size() : u.bytes.size();
            batch.units.push_back(std::move(u));
            if (cost >= batch_budget || batch.units.size() >= 16384) send();
          },
          fraction, opt.whole_member_bytes);
      if (!batch.units.empty()) send();
    } catch (const Cancelled&) {
    } catch (...) {
      read_error = std::current_exception();
    }
    to_tokenise.close();
  });

  std::thread writing([&] {
    try {
      Batch batch;
      while (to_write.pop(batch)) {
        for (const UnitResult& r : batch.results) {
          writer.add(r);
          skipped_in_workers += r.skipped_members;
          progress.text_bytes += r.text_bytes;
        }
        progress.bytes_done = batch.bytes_done;
        progress.train_tokens = train.count();
        progress.val_tokens = val.count();
        progress.documents_done = writer.documents;
        progress.seconds = elapsed();
        if (opt.progress) opt.progress(progress);
      }
    } catch (...) {
      write_error = std::current_exception();
      to_write.close();  // the next push fails: stop tokenising
    }
  });

  double parallel_seconds = 0;
  try {
    for (Batch batch; to_tokenise.pop(batch);) {
      std::vector<std::exception_ptr> errors(batch.units.size());
      batch.results.assign(batch.units.size(), {});
      const double parallel_start = elapsed();
#pragma omp parallel num_threads(workers)
      {
        UnitTokenizer unit_tok(tok, opt.cleanup, !by_chars);
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < batch.units.size(); ++i) {
          try {
            unit_tok.run(batch.units[i], batch.results[i]);
          } catch (...) {
            errors[i] = std::current_exception();
          }
        }
      }
      parallel_seconds += elapsed() - parallel_start;
      auto first_error = std::find_if(errors.begin(), errors.end(), [](const auto& e) { return e != nullptr; });
      if (first_error != errors.end()) {
        tokenise_error = *first_error;  // the first in input order: the batches before it are written
        break;
      }
      batch.units.clear();  // the text is no longer needed while the ids wait for the writer
      if (!to_write.push(std::move(batch))) break;
    }
  } catch (...) {  // out of memory: the threads must still be joined
    tokenise_error = std::current_exception();
  }
  to_tokenise.close();  // stops the reader when tokenising ended early
  to_write.close();     // the writer finishes what it has
  reader.join();
  writing.join();
  // The earliest failure in input order: a batch being tokenised precedes what the reader was on.
  for (const auto& e : {tokenise_error, write_error, read_error})
    if (e) std::rethrow_exception(e);
  progress.parallel_seconds = parallel_seconds;
  writer.finish();

  PrepareGpt2Result r;
  r.split_by_characters = by_chars;
  r.documents = by_chars ? 1 : writer.documents;
  r.val_documents = by_chars ? 0 : writer.val_documents;
  r.invalid_utf8_documents = writer.invalid_utf8_documents;
  r.skipped_members = docs.skipped_members() + skipped_in_workers;
  r.val_fraction = fraction;
  if (!by_chars && writer.documents == 0)
    throw Error("{}: empty input, no documents; nothing written",
                opt.inputs.size() == 1 ? opt.inputs[0] : "[prepare] inputs");
  if (train.count() + val.count() == 0) throw Error("[prepare] the inputs gave no tokens; nothing written");

  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& p : opt.inputs) inputs.push_back(fs::absolute(p).lexically_normal().string());
  nlohmann::ordered_json meta = {
      {"tokenizer", "gpt2"},
      {"vocab_size", tok.vocab_size()},
      {"vocab_dir", fs::absolute(opt.vocab_dir).lexically_normal().string()},
      {"eot_token", tok.eot_id()},
      {"dtype", "uint16"},
      {"train_tokens", train.count()},
      {"val_tokens", val.count()},
      {"train_crc32", hex32(train.crc32())},
      {"val_crc32", hex32(val.crc32())},
      {"split", by_chars ? "characters" : "documents"},
      {"val_fraction", fraction},
      {"seed", opt.seed},
      {"text_cleanup", opt.cleanup == TextCleanup::hf_openwebtext ? "hf-openwebtext" : "none"},
      {"eot_after_document", !by_chars},
      {"documents", r.documents},
      {"train_documents", r.documents - r.val_documents},
      {"val_documents", r.val_documents},
      {"invalid_utf8_documents", r.invalid_utf8_documents},
      {"skipped_members", r.skipped_members},
      {"input_bytes", docs.total_bytes()},
      {"text_bytes", progress.text_bytes},
      {"inputs", inputs},
      {"complete", true},
  };
  // Old meta.json first: from here until the new one is in place, the directory has no meta.json
  // and no loader takes the .bin files for a finished dataset.
  fs::remove(opt.out_dir + "/meta.json", ec);
  train.commit();
  val.commit();
  write_file_atomically(opt.out_dir + "/meta.json", meta.dump(2) + "\n");
  progress.bytes_done = docs.total_bytes();
  progress.train_tokens = train.count();
  progress.val_tokens = val.count();
  progress.documents_done = r.documents;
  progress.seconds = elapsed();
  r.totals = progress;
  r.train_crc32 = train.crc32();
  r.val_crc32 = val.crc32();
  return r;
}

}  // namespace lmul::data
