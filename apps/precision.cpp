// lmul precision RUN --bits 4,8 --avg-bits B [--out FRAGMENT.toml]: HAWQ-V3's Hessian-aware
// mixed precision (train/precision.h) — Hessian traces per Linear module by Hutchinson's
// estimator, the sensitivity of each bit-width, the exact optimum of the allocation under the
// average-bits budget — printed as a table and written as an [arith.modules] fragment.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "train/precision.h"
#include "train/run.h"

namespace lmul::apps {

namespace {

std::vector<int> parse_bits(const std::string& text) {
  std::vector<int> bits;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string piece = text.substr(start, end - start);
    char* stop = nullptr;
    errno = 0;
    const long b = std::strtol(piece.c_str(), &stop, 10);
    if (piece.empty() || *stop || errno)
      throw Error("precision: --bits '{}': '{}' is not a bit-width (e.g. --bits 4,8)", text, piece);
    bits.push_back(static_cast<int>(std::clamp(b, -1L, 1000L)));
    start = end + 1;
  }
  return bits;
}

}  // namespace

void add_precision(CLI::App& app) {
  struct Args {
    std::string target, which = "latest", bits = "4,8", out;
    std::vector<std::string> sets;
    train::PrecisionOptions o;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "precision",
      "HAWQ-V3 mixed precision: Hessian-aware bits per Linear module under a size budget ([arith.modules])");
  cmd->add_option("target", a->target, "Run directory or checkpoint file")->required();
  cmd->add_option("--bits", a->bits, "Bit-widths to choose from, comma-separated")->capture_default_str();
  cmd->add_option("--avg-bits", a->o.avg_bits,
                  "Size budget: average bits per weight of the Linear modules (Σ n_i·b_i ≤ B·Σ n_i)")
      ->required();
  cmd->add_option("--format", a->o.format, "Quantiser and spec written per bit-width, {bits} replaced")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Write the [arith.modules] fragment (TOML) here");
  cmd->add_option("--samples", a->o.hutchinson.samples, "Rademacher vectors of Hutchinson's estimator")
      ->capture_default_str();
  cmd->add_option("--batches", a->o.batches, "Training batches of the loss whose Hessian is taken")
      ->capture_default_str();
  cmd->add_option("--eps", a->o.hutchinson.eps, "Central-difference step of the Hessian-vector products")
      ->capture_default_str();
  cmd->add_option("--seed", a->o.hutchinson.seed, "Seed of the Rademacher vectors")->capture_default_str();
  cmd->add_option("--checkpoint", a->which, "latest | best (for a run directory)")
      ->capture_default_str()
      ->check(CLI::IsMember({"latest", "best"}));
  cmd->add_option("--set", a->sets, "Override a config key, e.g. --set arith.linear=exact (not shape keys)");
  cmd->callback([a] {
    a->o.bits = parse_bits(a->bits);
    train::check_precision_options(a->o);  // before loading: bad options fail fast
    if (!a->out.empty()) {
      namespace fs = std::filesystem;
      if (fs::is_directory(a->out)) throw Error("precision: --out {}: is a directory (name a .toml file)", a->out);
      const fs::path parent = fs::path(a->out).parent_path();
      if (!parent.empty() && !fs::is_directory(parent))
        throw Error("precision: --out {}: the directory {} does not exist", a->out, parent.string());
    }
    // The Hessian of the fp32 model (HAWQ-V3 takes it before quantisation): every site exact,
    // then the user's --set on top.
    std::vector<std::string> sets = {"arith.linear=exact",    "arith.attention=exact", "arith.head=exact",
                                     "arith.embedding=exact", "arith.backward=same",   "arith.modules.*=exact"};
    sets.insert(sets.end(), a->sets.begin(), a->sets.end());
    train::LoadedRun run = train::load_run(a->target, {a->which, sets});
    const train::PrecisionResult r = train::hawq_precision(run, a->o);
    std::string head = fmt::format("{:<32} {:>8} {:>22}", "module", "params", "trace ± s.e.");
    for (int b : a->o.bits) head += fmt::format(" {:>11}", fmt::format("Ω({})", b));
    fmt::print("{}  bits\n", head);
    for (const auto& row : r.rows) {
      std::string line = fmt::format("{:<32} {:>8} {:>22}", row.module, row.params,
                                     fmt::format("{:.4g} ± {:.2g}", row.trace.trace, row.trace.std_error));
      for (double w : row.omega) line += fmt::format(" {:>11.4g}", w);
      fmt::print("{}  {}\n", line, row.bits);
    }
    fmt::print(
        "allocation: {:.3f} average bits (budget {}), Σ Ω = {:.6g}; Hutchinson {} samples, {} batches, "
        "central differences eps={}\n",
        r.avg_bits, a->o.avg_bits, r.allocation.omega, a->o.hutchinson.samples, a->o.batches, a->o.hutchinson.eps);
    if (a->out.empty()) return;
    const std::string header = fmt::format(
        "# lmul precision {} --bits {} --avg-bits {} --format '{}' --samples {} --batches {} --eps {} --seed {}\n"
        "# HAWQ-V3 allocation: {:.3f} average bits, sum of Omega {:.6g} (lm_head keeps its site's arithmetic)\n",
        a->target, a->bits, a->o.avg_bits, a->o.format, a->o.hutchinson.samples, a->o.batches, a->o.hutchinson.eps,
        a->o.hutchinson.seed, r.avg_bits, r.allocation.omega);
    std::ofstream f(a->out, std::ios::trunc);
    f << train::modules_fragment(r, header);
    f.flush();
    if (!f) throw RuntimeFailure(fmt::format("{}: cannot write ({})", a->out, std::strerror(errno)));
    fmt::print("wrote {}\n", a->out);
  });
}

}  // namespace lmul::apps
