// A prepared data directory: meta.json, train.bin and val.bin (little-endian uint16 token ids), read
// as training reads them (TokenDataset, then batches from both splits) and as sample/eval read the
// tokenizer (load_tokenizer on meta.json, decoding the first tokens of train.bin).
// Input: meta.json, then after "%%" lines train.bin and val.bin.
// Properties: every id of a batch is < vocab_size; odd sizes and out-of-vocabulary ids are errors.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/rng.h"
#include "data/token_dataset.h"
#include "data/tokenizer.h"
#include "fuzz/fuzz_input.h"

using namespace lmul;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split_parts(data, size, 3);
  static const std::string dir = [] {
    std::filesystem::create_directories(fuzz::scratch() / "data");
    return fuzz::scratch() / "data";
  }();
  fuzz::write_file("data/meta.json", parts[0]);
  fuzz::write_file("data/train.bin", parts[1]);
  fuzz::write_file("data/val.bin", parts[2]);

  fuzz::expect_clean([&] {
    const data::TokenDataset ds(dir);
    Rng rng(1);
    std::vector<int32_t> x, y;
    for (auto split : {data::Split::train, data::Split::val}) {
      fuzz::expect_clean([&] {
        ds.batch(split, 3, 4, rng, x, y);
        for (int32_t id : x)
          if (id < 0 || id >= ds.vocab_size()) fuzz::fail(fmt::format("batch id {} outside the vocabulary", id));
        for (int32_t id : y)
          if (id < 0 || id >= ds.vocab_size()) fuzz::fail(fmt::format("target id {} outside the vocabulary", id));
      });
    }
  });

  fuzz::expect_clean([&] {
    const auto tok = data::load_tokenizer(dir);
    std::vector<int> ids(std::min<size_t>(parts[1].size() / 2, 64));
    for (size_t i = 0; i < ids.size(); ++i) {
      uint16_t v;
      std::memcpy(&v, parts[1].data() + 2 * i, 2);
      ids[i] = v;
    }
    const std::string text = tok->decode(ids);
    if (tok->name() == "char" && tok->encode(text) != ids) fuzz::fail("char tokenizer: encode(decode(ids)) != ids");
  });
  return 0;
}
