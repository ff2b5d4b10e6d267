// lmul prepare char --input FILE --out DIR
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "data/char_prepare.h"

namespace lmul::apps {

CLI::App* add_prepare(CLI::App& app) {
  auto* prepare = app.add_subcommand("prepare", "Turn text into train.bin / val.bin (uint16 token ids) and meta.json");
  prepare->require_subcommand(1);
  struct Args {
    std::string input = "../shared/data/tinyshakespeare/input.txt", out = "datasets/shakespeare_char";
    double val_fraction = 0.1;
  };
  auto a = std::make_shared<Args>();
  auto* c = prepare->add_subcommand("char",
                                    "Character-level vocabulary (nanoGPT's shakespeare_char); 90/10 split by position");
  c->add_option("--input", a->input, "UTF-8 text file")->capture_default_str();
  c->add_option("--out", a->out, "Output directory")->capture_default_str();
  c->add_option("--val-fraction", a->val_fraction, "Fraction of the text (its end) for val.bin")->capture_default_str();
  c->callback([a] {
    if (!std::filesystem::is_regular_file(a->input))
      throw Error(
          "--input {}: no such file (relative paths are from the working directory {}; the default is "
          "Tiny Shakespeare as seen from the repository root: pass --input FILE)",
          a->input, std::filesystem::current_path().string());
    auto s = data::prepare_char(a->input, a->out, a->val_fraction);
    fmt::print("vocab size {}, train {} tokens, val {} tokens → {}\n", s.vocab_size, s.train_tokens, s.val_tokens,
               a->out);
  });
  return prepare;
}

}  // namespace lmul::apps
