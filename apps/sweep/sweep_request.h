// What a sweep asks for: one base training config, a list of arithmetic entries, the seeds and
// overrides — from the command line or a sweep file (a TOML file with a [sweep] table), and
// written back as SWEEP_DIR/sweep.toml so that a sweep resumes from its directory alone.
//
// The arithmetic entry grammar (one entry = one arithmetic = one run per seed):
//   entry := part ('+' part)*
//   part  := SPEC                 the spec at the --site sites (default linear)
//          | KEY '=' SPEC         the spec at one site: KEY is linear | attention | head |
//                                 embedding | all (= linear, attention and head) | backward
//                                 (same | exact | SPEC, the gradient GEMMs of every site)
// A part starts with KEY= only when KEY is one of those words, so a spec's own options
// (lmul:m=4,variant=formula) are never mistaken for a site; '+' separates parts only where a
// site word and '=' follow it. Specs contain ',' and '=', never ' ' or ';': entries of a list are
// separate arguments (`--arith exact lmul:m=4`, or --arith repeated) or are joined by ';'.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lmul::apps::sweep {

// The arith sites `--site` may name ("all" = linear+attention+head; embedding only when named).
inline constexpr const char* kSites[] = {"linear", "attention", "head", "embedding"};

// "linear", "all", "linear+embedding" → the config keys' site names, in kSites order.
// Throws lmul::Error naming the bad word and the choices.
std::vector<std::string> parse_sites(const std::string& text, const std::string& where);

// One entry of the arithmetic list, resolved against the default sites.
struct ArithEntry {
  std::string text;  // as written
  std::string name;  // readable and filesystem-safe: "linear=lmul_m=4", "attention=fp8_e4m3+backward=exact"
  std::vector<std::pair<std::string, std::string>> assignments;  // ("linear", "lmul:m=4"), ("backward", "exact")
};
// Parses an entry (grammar above); specs are not checked here (see validate_specs in sweep_plan.h).
// site_text: the --site value used for bare specs, and in the name.
ArithEntry parse_arith_entry(const std::string& text, const std::string& site_text);

// Splits each argument at ';' and at the ',' before a new spec (exact,lmul:m=4,variant=formula,fp8:e4m3 is three
// entries: a ','-piece KEY=VALUE with KEY not a site is an option of the spec before it), dropping empty pieces.
std::vector<std::string> split_arith_list(const std::vector<std::string>& args);

struct SweepRequest {
  std::string config;              // base training config (TOML), relative to the working directory
  std::vector<std::string> arith;  // entries, grammar above
  std::string site = "linear";     // sites of bare specs
  std::vector<int64_t> seeds;      // empty: the config's seed
  std::vector<std::string> sets;   // "key=value" overrides of the base config, before the arithmetic
  std::string out;                 // sweep dir; empty: the base config's out_dir + "_sweep"
};

// True when the TOML file at path has a top-level [sweep] table (a sweep file, not a training
// config). Throws lmul::Error when the file cannot be read or parsed.
bool is_sweep_file(const std::string& path);
// A path given in a sweep file: an absolute path as it is; a relative one beside the sweep file
// if it exists there, else under the working directory. Throws lmul::Error naming the file, the key
// and both places looked at.
std::string resolve_sweep_path(const std::string& sweep_file, const std::string& value, const std::string& key);
// Reads a sweep file (the config path resolved as above): only a [sweep] table with keys config (string), arith (array
// of strings), site (string), seeds (array of integers), set (array of "key=value" strings), out (string). Unknown keys
// and wrong types are errors naming file:line and the key.
SweepRequest read_sweep_file(const std::string& path);
// The request as a sweep file (what SWEEP_DIR/sweep.toml holds).
std::string to_sweep_toml(const SweepRequest& request);

// "1,2,3" → {1, 2, 3}; throws lmul::Error naming a piece that is not a non-negative integer.
std::vector<int64_t> parse_seeds(const std::string& text);

}  // namespace lmul::apps::sweep
