#include "apps/sweep/sweep_request.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/error.h"

namespace lmul::apps::sweep {

namespace {

constexpr const char* kSiteChoices = "linear, attention, head, embedding, all, or several joined by '+'";

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string piece;
  std::istringstream in(text);
  while (std::getline(in, piece, sep)) out.push_back(piece);
  if (!text.empty() && text.back() == sep) out.emplace_back();
  return out;
}

// The words that may stand before '=' at the start of an entry's part.
bool is_key_word(const std::string& w) {
  // modules.PATTERN: one entry of [arith.modules] (a module name or * glob: letters, digits, '_',
  // '.', '*' — a checkpoint name has nothing else, so "modules.x " with a space is no key)
  if (w.starts_with("modules.") && w.size() > 8)
    return std::ranges::all_of(w.substr(8), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '*';
    });
  return w == "all" || w == "backward" || std::ranges::find(kSites, w) != std::end(kSites);
}

// Where a part starts: position 0, and every '+' followed by KEY '='.
std::vector<std::string> split_parts(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '+') continue;
    const size_t eq = text.find('=', i + 1);
    if (eq != std::string::npos && is_key_word(text.substr(i + 1, eq - i - 1))) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

// Characters other than letters, digits and . _ = , + - become '_' (':' and '/' above all).
std::string filesystem_name(const std::string& s) {
  std::string out = s;
  for (char& ch : out)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && std::string_view("._=,+-").find(ch) == std::string_view::npos)
      ch = '_';
  return out;
}

}  // namespace

std::vector<std::string> parse_sites(const std::string& text, const std::string& where) {
  if (text.empty()) throw Error("{} is empty (choose {})", where, kSiteChoices);
  std::vector<std::string> sites;
  for (const std::string& word : split(text, '+')) {
    std::vector<std::string> add;
    if (word == "all")
      add = {"linear", "attention", "head"};
    else if (std::ranges::find(kSites, word) != std::end(kSites))
      add = {word};
    else
      throw Error("{} '{}': unknown site '{}' (choose {})", where, text, word, kSiteChoices);
    for (const auto& s : add)
      if (std::ranges::find(sites, s) == sites.end()) sites.push_back(s);
  }
  std::vector<std::string> ordered;  // kSites order, so "head+linear" and "linear+head" agree
  for (const char* s : kSites)
    if (std::ranges::find(sites, s) != sites.end()) ordered.emplace_back(s);
  return ordered;
}

ArithEntry parse_arith_entry(const std::string& text, const std::string& site_text) {
  const std::string where = fmt::format("sweep: --arith entry '{}'", text);
  if (text.empty()) throw Error("sweep: empty --arith entry (entries are separated by spaces or ';')");
  ArithEntry e;
  e.text = text;
  std::vector<std::string> name_parts;
  auto assign = [&](const std::string& key, const std::string& spec) {
    for (const auto& [k, v] : e.assignments)
      if (k == key) throw Error("{}: '{}' is given twice", where, key);
    e.assignments.emplace_back(key, spec);
  };
  const std::vector<std::string> parts = split_parts(text);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const size_t eq = part.find('=');
    const bool keyed = eq != std::string::npos && is_key_word(part.substr(0, eq));
    const std::string spec = keyed ? part.substr(eq + 1) : part;
    if (spec.empty()) throw Error("{}: empty spec in '{}' (write SITE=SPEC, e.g. linear=exact)", where, part);
    if (!keyed) {
      if (i > 0) throw Error("{}: part '{}' needs a site (SITE=SPEC)", where, part);
      for (const auto& site : parse_sites(site_text, "sweep: --site")) assign(site, spec);
      name_parts.push_back(site_text + "=" + spec);
      continue;
    }
    const std::string key = part.substr(0, eq);
    if (key == "backward" || key.starts_with("modules."))
      assign(key, spec);
    else
      for (const auto& site : parse_sites(key, where)) assign(site, spec);
    name_parts.push_back(part);
  }
  std::string joined;
  for (const auto& p : name_parts) joined += (joined.empty() ? "" : "+") + p;
  e.name = filesystem_name(joined);
  return e;
}

std::vector<std::string> split_arith_list(const std::vector<std::string>& args) {
  // A ','-piece continues the entry before it when it is a spec option KEY=VALUE (m=4, variant=formula,
  // scale=delayed): its KEY is neither a site word nor a FORMAT:OPTION head. Anything else (exact, ternary,
  // pot:b=5, attention=lmul:m=4) starts the next entry.
  auto is_option = [](const std::string& piece) {
    const size_t eq = piece.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    const std::string key = piece.substr(0, eq);
    return key.find(':') == std::string::npos && !is_key_word(key);
  };
  std::vector<std::string> out;
  for (const auto& a : args)
    for (const auto& entry : split(a, ';')) {
      bool started = false;
      for (const auto& piece : split(entry, ',')) {
        if (started && is_option(piece)) {
          out.back() += "," + piece;
        } else if (!piece.empty()) {
          out.push_back(piece);
          started = true;
        }
      }
    }
  return out;
}

std::vector<int64_t> parse_seeds(const std::string& text) {
  std::vector<int64_t> seeds;
  for (const std::string& piece : split(text, ',')) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(piece.c_str(), &end, 10);
    if (piece.empty() || *end || errno || v < 0)
      throw Error("sweep: --seeds '{}': '{}' is not a non-negative integer (write e.g. --seeds 1,2,3)", text, piece);
    if (std::ranges::find(seeds, v) != seeds.end()) throw Error("sweep: --seeds '{}': seed {} is given twice", text, v);
    seeds.push_back(v);
  }
  return seeds;
}

namespace {

toml::table parse_toml(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& s = e.source();
    if (!s.path) throw Error("{}: cannot read the file", path);
    throw Error("{}:{}:{}: {}", path, s.begin.line, s.begin.column, e.description());
  }
}

std::string string_value(const toml::node& n, const std::string& at) {
  if (!n.is_string()) throw Error("{} must be a string", at);
  return n.as_string()->get();
}

std::vector<std::string> string_array(const toml::node& n, const std::string& at) {
  if (!n.is_array()) throw Error("{} must be an array of strings", at);
  std::vector<std::string> out;
  for (const auto& x : *n.as_array()) out.push_back(string_value(x, at + " (every element)"));
  return out;
}

}  // namespace

bool is_sweep_file(const std::string& path) {
  const toml::table t = parse_toml(path);
  return t.contains("sweep") && t["sweep"].is_table();
}

std::string resolve_sweep_path(const std::string& sweep_file, const std::string& value, const std::string& key) {
  namespace fs = std::filesystem;
  const fs::path p(value);
  if (p.is_absolute()) {
    if (!fs::exists(p)) throw Error("{}: key '{}': {} does not exist", sweep_file, key, value);
    return value;
  }
  const fs::path beside = fs::path(sweep_file).parent_path() / p;
  if (fs::exists(beside)) return beside.lexically_normal().string();
  if (fs::exists(p)) return value;
  throw Error(
      "{}: key '{}': {} is neither beside the sweep file ({}) nor under the working directory {} (give an "
      "absolute path, or run from the directory it is relative to)",
      sweep_file, key, value, beside.lexically_normal().string(), fs::current_path().string());
}

SweepRequest read_sweep_file(const std::string& path) {
  const toml::table t = parse_toml(path);
  for (const auto& [key, node] : t)
    if (key.str() != "sweep")
      throw Error(
          "{}:{}: unexpected '{}' (a sweep file holds only the [sweep] table; training keys go in "
          "its base config or in set = [\"key=value\"])",
          path, node.source().begin.line, key.str());
  const toml::table* s = t["sweep"].as_table();
  if (!s) throw Error("{}: no [sweep] table (a sweep file needs [sweep] with config and arith)", path);
  SweepRequest r;
  bool has_config = false, has_arith = false;
  for (const auto& [key, node] : *s) {
    const std::string k(key.str());
    const std::string at = fmt::format("{}:{}: key 'sweep.{}'", path, node.source().begin.line, k);
    if (k == "config")
      r.config = string_value(node, at), has_config = true;
    else if (k == "arith")
      r.arith = string_array(node, at), has_arith = true;
    else if (k == "site")
      r.site = string_value(node, at);
    else if (k == "set")
      r.sets = string_array(node, at);
    else if (k == "out")
      r.out = string_value(node, at);
    else if (k == "seeds") {
      if (!node.is_array()) throw Error("{} must be an array of integers", at);
      for (const auto& x : *node.as_array()) {
        if (!x.is_integer() || x.as_integer()->get() < 0) throw Error("{} must hold non-negative integers", at);
        r.seeds.push_back(x.as_integer()->get());
      }
    } else {
      throw Error("{}: unknown key (known: config, arith, site, seeds, set, out)", at);
    }
  }
  if (!has_config) throw Error("{}: [sweep] needs config = \"BASE_CONFIG.toml\"", path);
  r.config = resolve_sweep_path(path, r.config, "sweep.config");
  if (!has_arith || r.arith.empty()) throw Error("{}: [sweep] needs a non-empty arith = [\"exact\", ...]", path);
  return r;
}

std::string to_sweep_toml(const SweepRequest& r) {
  toml::table s;
  s.insert("config", r.config);
  toml::array arith, seeds, sets;
  for (const auto& a : r.arith) arith.push_back(a);
  for (auto seed : r.seeds) seeds.push_back(seed);
  for (const auto& x : r.sets) sets.push_back(x);
  s.insert("arith", arith);
  s.insert("site", r.site);
  if (!r.seeds.empty()) s.insert("seeds", seeds);
  s.insert("set", sets);
  if (!r.out.empty()) s.insert("out", r.out);
  toml::table root;
  root.insert("sweep", s);
  std::ostringstream o;
  o << "# written by lmul sweep: `lmul sweep THIS_DIR` resumes the sweep (a relative config path is\n"
       "# looked up beside this file first, then under the directory lmul was started in)\n"
    << root << "\n";
  return o.str();
}

}  // namespace lmul::apps::sweep
