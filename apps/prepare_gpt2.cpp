// lmul prepare gpt2: tokenise text with GPT-2's BPE into train.bin / val.bin / meta.json.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "data/prepare_gpt2.h"

namespace lmul::apps {
namespace {

constexpr const char* kHelp = R"(
Tokenise text with GPT-2's byte-level BPE into OUT/train.bin, OUT/val.bin
(little-endian uint16, the files nanoGPT's prepare.py writes) and OUT/meta.json.
Inputs (--input, repeatable, read in the order given):
  * a text file (one document) or a .jsonl file (one document per line, field "text");
  * a directory: its .txt, .jsonl and archive files, sorted by name;
  * an archive or compressed file, streamed, never unpacked to disk: .tar (nested to any depth),
    .xz, .gz, .zst, .bz2, .tgz, .tar.xz, ... — members .txt (a document), .jsonl, or archives
    again, in the archive's order; other members are skipped. OpenWebText as downloaded:
    --input openwebtext/subsets (21 tars of .xz files, each a tar of .txt documents).
Split (F = --val-fraction):
  * exactly one plain text file: the first (1 - F) of its characters are train, the rest val,
    each part encoded on its own, no end-of-text token (nanoGPT data/shakespeare/prepare.py;
    default F = 0.1; Tiny Shakespeare gives train 301,966 / val 36,059 tokens);
  * otherwise: <|endoftext|> (50256) after every document, whole documents to val, one picked at
    random (by --seed) in every block of about 1/F documents: floor or ceil of F x documents
    (default F = 0.0005 as nanoGPT openwebtext; at least 1 when there are 2 or more documents).
    Deterministic, but not the documents nanoGPT's numpy permutation picks.
Documents that are not valid UTF-8 are kept byte for byte (counted in meta.json).
An interrupted run leaves only *.tmp files (and no meta.json once it has started to replace the
old outputs); run the same command again to start over.)";

}  // namespace

void add_prepare_gpt2(CLI::App& prepare) {
  auto opt = std::make_shared<data::PrepareGpt2Options>();
  auto cleanup = std::make_shared<std::string>("none");
  opt->vocab_dir = "../shared/data/gpt2";
  auto* cmd = prepare.add_subcommand("gpt2", "GPT-2 BPE token ids (nanoGPT's shakespeare / openwebtext prepare.py)");
  cmd->footer(kHelp);
  cmd->add_option("--input", opt->inputs, "Text file, .jsonl, directory, or archive (.tar/.xz/.gz/.zst/.bz2, nested)")
      ->required();
  cmd->add_option("--out", opt->out_dir, "Output directory (created if missing)")->required();
  cmd->add_option("--val-fraction", opt->val_fraction,
                  "F: fraction held out for val.bin [default: 0.1 of one text file's characters, 0.0005 of documents]")
      ->check(CLI::Range(0.0, 0.999999));
  cmd->add_option("--seed", opt->seed, "Seed of the document split")->capture_default_str();
  cmd->add_option("--text-cleanup", *cleanup,
                  "none, or hf-openwebtext: each document as Hugging Face's openwebtext loader gives it to nanoGPT "
                  "(runs of 3+ newlines -> 2, leading/trailing whitespace stripped)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "hf-openwebtext"}));
  cmd->add_option("--workers", opt->workers, "Threads that decompress and tokenise (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--vocab", opt->vocab_dir, "Directory with GPT-2's encoder.json and vocab.bpe")
      ->capture_default_str();
  cmd->callback([opt, cleanup] {
    if (!std::filesystem::is_regular_file(std::filesystem::path(opt->vocab_dir) / "encoder.json"))
      throw Error(
          "--vocab {}: no encoder.json there (relative paths are from the working directory {}; the "
          "default is GPT-2's files as seen from the repository root: pass --vocab DIR)",
          opt->vocab_dir, std::filesystem::current_path().string());
    opt->cleanup = *cleanup == "hf-openwebtext" ? data::TextCleanup::hf_openwebtext : data::TextCleanup::none;
    const bool tty = ::isatty(fileno(stderr));
    double last_print = -1;
    opt->progress = [tty, last_print](const data::PrepareProgress& p) mutable {
      // A line a second on a terminal, one every 30 s in a log.
      if (p.seconds - last_print < (tty ? 1.0 : 30.0)) return;
      last_print = p.seconds;
      const double frac = p.bytes_total ? static_cast<double>(p.bytes_done) / p.bytes_total : 1.0;
      const double eta = frac > 0 ? p.seconds * (1 - frac) / frac : 0;
      fmt::print(stderr,
                 "{}prepare gpt2: {:5.1f}%  {} documents  {:.0f} MB in ({:.1f} MB/s)  {} tokens ({:.2f} M/s)  ETA "
                 "{:.0f}:{:02.0f}{}",
                 tty ? "\r" : "", 100 * frac, p.documents_done, p.bytes_done / 1e6, p.bytes_done / 1e6 / p.seconds,
                 p.train_tokens + p.val_tokens, (p.train_tokens + p.val_tokens) / 1e6 / p.seconds, std::floor(eta / 60),
                 std::fmod(eta, 60.0), tty ? "   " : "\n");
    };
    auto r = data::prepare_gpt2(*opt);
    const auto& t = r.totals;
    fmt::print(
        stderr,
        "{}prepare gpt2: {} documents ({} val), {:.2f} MB in, {:.2f} MB of text -> train {} tokens, val {} tokens "
        "(split by {}) in {:.2f} s ({:.1f} MB/s in, {:.2f} M tokens/s; {:.0f} % of it in parallel work) -> {}\n",
        tty ? "\r" : "", r.documents, r.val_documents, t.bytes_done / 1e6, t.text_bytes / 1e6, t.train_tokens,
        t.val_tokens, r.split_by_characters ? "characters" : "documents", t.seconds,
        t.seconds > 0 ? t.bytes_done / 1e6 / t.seconds : 0.0,
        t.seconds > 0 ? (t.train_tokens + t.val_tokens) / 1e6 / t.seconds : 0.0,
        t.seconds > 0 ? 100 * t.parallel_seconds / t.seconds : 0.0, opt->out_dir);
    if (r.invalid_utf8_documents)
      fmt::print(stderr, "prepare gpt2: note: {} documents are not valid UTF-8; their bytes were encoded as they are\n",
                 r.invalid_utf8_documents);
    if (r.skipped_members)
      fmt::print(stderr, "prepare gpt2: note: {} archive members skipped (not .txt, .jsonl or an archive)\n",
                 r.skipped_members);
  });
}

}  // namespace lmul::apps
