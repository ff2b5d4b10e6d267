#include "data/char_prepare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/mapped_file.h"
#include "data/token_file.h"
#include "data/utf8.h"

namespace lmul::data {

PrepareSummary prepare_char(const std::string& input, const std::string& out_dir, double val_fraction) {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0)) throw Error("--val-fraction {} must be in [0, 1)", val_fraction);
  MappedFile file(input);
  std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  if (text.empty()) throw Error("{}: the input is empty", input);

  std::vector<int32_t> cps;
  std::map<int32_t, std::string> utf8_of;  // code point → its bytes, for meta.json
  cps.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = decode_utf8(text, i);
    if (c.cp < 0) throw Error("{}: invalid UTF-8 at byte {} (char-level data must be UTF-8 text)", input, i);
    if (!utf8_of.count(c.cp)) utf8_of[c.cp] = std::string(text.substr(i, static_cast<size_t>(c.len)));
    cps.push_back(c.cp);
    i += static_cast<size_t>(c.len);
  }
  std::vector<int32_t> chars = cps;
  std::sort(chars.begin(), chars.end());
  chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
  if (chars.size() > 65535) throw Error("{}: {} distinct characters do not fit uint16 token ids", input, chars.size());
  std::map<int32_t, uint16_t> stoi;
  for (size_t k = 0; k < chars.size(); ++k) stoi[chars[k]] = static_cast<uint16_t>(k);

  std::vector<uint16_t> ids(cps.size());
  for (size_t k = 0; k < cps.size(); ++k) ids[k] = stoi[cps[k]];
  // nanoGPT: n = len(data); train = data[:int(n*0.9)]
  const auto n_train = static_cast<size_t>(static_cast<double>(ids.size()) * (1.0 - val_fraction));

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw Error("{}: cannot create the output directory ({})", out_dir, ec.message());
  nlohmann::ordered_json meta;
  meta["tokenizer"] = "char";
  meta["vocab_size"] = chars.size();
  nlohmann::json list = nlohmann::json::array();
  for (int32_t c : chars) list.push_back(utf8_of[c]);
  meta["chars"] = list;
  meta["train_tokens"] = n_train;
  meta["val_tokens"] = ids.size() - n_train;
  meta["source"] = std::filesystem::absolute(input).string();
  const std::string dir = out_dir + "/";
  TokenFile train(dir + "train.bin"), val(dir + "val.bin");
  train.append(std::span(ids).first(n_train));
  val.append(std::span(ids).subspan(n_train));
  train.commit();
  val.commit();
  write_file_atomically(dir + "meta.json", meta.dump(2) + "\n");
  return {static_cast<int64_t>(chars.size()), static_cast<int64_t>(n_train),
          static_cast<int64_t>(ids.size() - n_train)};
}

}  // namespace lmul::data
