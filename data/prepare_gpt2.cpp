#include "data/prepare_gpt2.h"

#include <omp.h>

#include <chrono>
#include <exception>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/bpe_tokenizer.h"
#include "data/document_stream.h"
#include "data/token_file.h"

namespace lmul::data {
namespace fs = std::filesystem;
namespace {

// The text of a unit: the bytes themselves, or the "text" field of its JSON line.
std::string_view unit_text(const WorkUnit& u, std::string& storage) {
  if (!u.jsonl) return u.bytes;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(u.bytes);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error("{}:{}: not valid JSON ({})", u.file->path(), u.line, e.what());
  }
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
    throw Error("{}:{}: expected an object with a string field \"text\"", u.file->path(), u.line);
  storage = j["text"].get<std::string>();
  return storage;
}

}  // namespace

PrepareGpt2Result prepare_gpt2(const PrepareGpt2Options& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  BpeTokenizer tok(opt.vocab_dir);
  if (tok.vocab_size() > 65536) throw Error("{}: {} tokens do not fit uint16", opt.vocab_dir, tok.vocab_size());
  DocumentStream docs(opt.inputs, opt.val_fraction);

  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir)) throw Error("{}: cannot create output directory ({})", opt.out_dir, ec.message());
  TokenFile train(opt.out_dir + "/train.bin"), val(opt.out_dir + "/val.bin");

  const int workers = opt.workers > 0 ? opt.workers : omp_get_max_threads();
  PrepareProgress progress;
  progress.bytes_total = docs.total_bytes();
  std::vector<WorkUnit> batch;
  std::vector<std::vector<uint16_t>> ids;
  std::vector<std::exception_ptr> errors;
  bool more = true;
  while (more) {
    // Gather one batch of units in input order.
    batch.clear();
    size_t batch_bytes = 0;
    WorkUnit u;
    while (batch_bytes < opt.batch_bytes && batch.size() < 16384 && (more = docs.next(u))) {
      batch_bytes += u.bytes.size();
      batch.push_back(std::move(u));
    }
    if (batch.empty()) break;

    ids.assign(batch.size(), {});
    errors.assign(batch.size(), nullptr);
#pragma omp parallel for schedule(dynamic, 1) num_threads(workers)
    for (size_t i = 0; i < batch.size(); ++i) {
      try {
        std::string storage;
        std::vector<int> v;
        tok.encode_into(unit_text(batch[i], storage), v);
        if (batch[i].eot) v.push_back(tok.eot_id());
        ids[i].assign(v.begin(), v.end());
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (errors[i]) std::rethrow_exception(errors[i]);
      (batch[i].val ? val : train).append(ids[i]);
      progress.documents_done += batch[i].eot;
    }
    progress.bytes_done += batch_bytes;
    progress.train_tokens = train.count();
    progress.val_tokens = val.count();
    progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (opt.progress) opt.progress(progress);
  }
  if (docs.split_by_characters()) progress.documents_done = 1;

  PrepareGpt2Result r;
  r.documents = docs.documents();
  r.val_documents = docs.val_documents();
  r.split_by_characters = docs.split_by_characters();
  if (train.count() + val.count() == 0) throw Error("[prepare] the inputs gave no tokens; nothing written");

  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& p : opt.inputs) inputs.push_back(fs::absolute(p).lexically_normal().string());
  nlohmann::json meta = {
      {"tokenizer", "gpt2"},
      {"vocab_size", tok.vocab_size()},
      {"vocab_dir", fs::absolute(opt.vocab_dir).lexically_normal().string()},
      {"eot_token", tok.eot_id()},
      {"dtype", "uint16"},
      {"train_tokens", train.count()},
      {"val_tokens", val.count()},
      {"split", r.split_by_characters ? "characters" : "documents"},
      {"val_fraction", opt.val_fraction},
      {"eot_after_document", !r.split_by_characters},
      {"documents", r.documents},
      {"train_documents", r.split_by_characters ? r.documents : r.documents - r.val_documents},
      {"val_documents", r.split_by_characters ? 0 : r.val_documents},
      {"input_bytes", progress.bytes_done},
      {"inputs", inputs},
  };
  train.commit();
  val.commit();
  write_file_atomically(opt.out_dir + "/meta.json", meta.dump(2) + "\n");
  progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.totals = progress;
  return r;
}

}  // namespace lmul::data
