// lmul prepare gpt2: tokenise text with GPT-2's BPE into train.bin / val.bin / meta.json.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "data/prepare_gpt2.h"

namespace lmul::apps {
namespace {

constexpr const char* kHelp = R"(
Tokenise text with GPT-2's byte-level BPE into OUT/train.bin, OUT/val.bin
(little-endian uint16, the files nanoGPT's prepare.py writes) and OUT/meta.json.
Inputs (--input, repeatable): a text file (one document), a directory (its *.txt files in sorted
order, one document each) or a .jsonl file (one document per line, field "text").
Split:
  * exactly one text file: the first (1 - F) of its characters are train, the rest val, each part
    encoded on its own with no end-of-text token (nanoGPT data/shakespeare/prepare.py; Tiny
    Shakespeare gives train 301,966 / val 36,059 tokens at F = 0.1);
  * otherwise: <|endoftext|> (50256) after every document, and the last round(F x documents)
    documents (at least 1, never all) are val, so no document is split (nanoGPT openwebtext holds
    out whole documents, at F = 0.0005).)";

}  // namespace

void add_prepare_gpt2(CLI::App& prepare) {
  auto opt = std::make_shared<data::PrepareGpt2Options>();
  opt->vocab_dir = "../shared/data/gpt2";
  auto* cmd = prepare.add_subcommand("gpt2", "GPT-2 BPE token ids (nanoGPT's shakespeare / openwebtext prepare.py)");
  cmd->footer(kHelp);
  cmd->add_option("--input", opt->inputs, "Text file, directory of .txt files, or .jsonl file")->required();
  cmd->add_option("--out", opt->out_dir, "Output directory (created if missing)")->required();
  cmd->add_option("--val-fraction", opt->val_fraction, "F: fraction held out for val.bin (split rules below)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  cmd->add_option("--workers", opt->workers, "Tokeniser threads (0 = all cores)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--vocab", opt->vocab_dir, "Directory with GPT-2's encoder.json and vocab.bpe")
      ->capture_default_str();
  cmd->callback([opt] {
    const bool tty = ::isatty(fileno(stderr));
    if (tty) {
      opt->progress = [](const data::PrepareProgress& p) {
        double pct = p.bytes_total ? 100.0 * p.bytes_done / p.bytes_total : 100.0;
        fmt::print(stderr, "\rprepare gpt2: {:5.1f}%  {:.1f}/{:.1f} MB  {} tokens  {:.1f} MB/s   ", pct,
                   p.bytes_done / 1e6, p.bytes_total / 1e6, p.train_tokens + p.val_tokens,
                   p.seconds > 0 ? p.bytes_done / 1e6 / p.seconds : 0.0);
      };
    }
    auto r = data::prepare_gpt2(*opt);
    const auto& t = r.totals;
    fmt::print(stderr, "{}prepare gpt2: {} documents, {:.2f} MB -> train {} tokens, val {} tokens (split by {}) in {:.2f} s ({:.1f} MB/s) -> {}\n",
               tty ? "\r" : "", r.documents, t.bytes_done / 1e6, t.train_tokens, t.val_tokens,
               r.split_by_characters ? "characters" : "documents", t.seconds,
               t.seconds > 0 ? t.bytes_done / 1e6 / t.seconds : 0.0, opt->out_dir);
  });
}

}  // namespace lmul::apps
