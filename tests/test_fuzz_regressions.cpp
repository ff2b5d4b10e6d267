// Bugs the fuzz targets (fuzz/, RELIABILITY.md) found, one test each, with the input that found it
// (also committed under fuzz/corpus/<target>/regress-*, which every fuzz run replays first).
#include <doctest/doctest.h>

#include <string>

#include "apps/sweep/sweep_request.h"
#include "core/arith/arith.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "tests/temp_dir.h"
#include "data/bpe_vocab.h"
#include "data/token_dataset.h"
#include "data/tokenizer.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/run.h"
#include "tests/error_of.h"

using namespace lmul;

namespace {
// The committed tiny checkpoint with its config's key set to value, re-sealed (checksum made to
// hold), as a crafted or corrupt-then-rechecksummed file would be.
std::string resealed_with(const test::TempDir& dir, const std::string& key, int64_t value) {
  const auto f = SafetensorsFile::load(std::string(LMUL_SOURCE_DIR) + "/fuzz/corpus/checkpoint/exact.safetensors");
  std::vector<SafetensorsOut> tensors;
  for (const auto& [name, e] : f.entries()) tensors.push_back({name, e.dtype, e.shape, f.bytes(name)});
  auto meta = f.metadata();
  auto config = nlohmann::json::parse(meta.at("config"));
  config[key] = value;
  meta["config"] = config.dump();
  meta["checksum"] = train::checkpoint_checksum(tensors, meta);
  const std::string path = dir / "resealed.safetensors";
  save_safetensors(path, tensors, meta);
  return path;
}

using lmul::testing::error_of;
}  // namespace

TEST_SUITE("fuzz regressions") {
  TEST_CASE("an error quoting a newline or a NUL from the input stays one line (fuzz_arith_spec, fuzz_sweep)") {
    const std::string spec = error_of([] { arith::make_multiplier(std::string("lmwl:m=rvune\n\0\0,x", 17)); });
    CHECK(spec.find('\n') == std::string::npos);
    CHECK(spec.find(std::string(1, '\0')) == std::string::npos);
    CHECK(spec.find("lmwl:m=rvune\\n\\x00\\x00,x") != std::string::npos);
    const std::string seeds = error_of([] { apps::sweep::parse_seeds("7\n%%\n1"); });
    CHECK(seeds.find('\n') == std::string::npos);
    CHECK(seeds.find("'7\\n%%\\n1'") != std::string::npos);
    CHECK(std::string(Error("tab\there").what()) == "tab\\there");
  }

  TEST_CASE("a checkpoint whose config claims a model larger than its tensors is an error, not an allocation") {
    // Found through fuzz_checkpoint's re-sealed path: n_embd=100000 asked for 112 GB before the
    // tensors were looked at; vocab_size=10000000 spent seconds allocating and zeroing.
    test::TempDir dir;
    for (const auto& [key, value] : {std::pair<std::string, int64_t>{"n_embd", 100000}, {"vocab_size", 10000000}}) {
      CAPTURE(key);
      const std::string path = resealed_with(dir, key, value);
      const std::string e = error_of([&] { train::load_run(path); });
      CHECK(e.find("its config describes a model of at least") != std::string::npos);
      CHECK(e.find(path) != std::string::npos);
    }
    // The same file with its own config loads.
    CHECK_NOTHROW(train::load_run(resealed_with(dir, "seed", 1337)));
  }

  TEST_CASE("a config value of nan is out of range, not accepted (fuzz_config)") {
    // NaN compares false with both bounds, so `v < lo || v > hi` let learning_rate = nan through.
    test::TempDir dir;
    for (const char* key : {"learning_rate", "dropout", "min_lr", "beta2"}) {
      CAPTURE(key);
      const std::string path = dir.write("c.toml", fmt::format("{} = nan\n", key));
      const std::string e = error_of([&] { train::load_config(path, {}); });
      CHECK(e.find(fmt::format("{}=nan is out of range", key)) != std::string::npos);
    }
  }

  TEST_CASE("a --set value that is not UTF-8 is an error naming the key (fuzz_config)") {
    // The value was stored as it came; writing the resolved config as JSON (metrics header,
    // checkpoint) then threw nlohmann's type_error, which escaped as an internal error.
    test::TempDir dir;
    const std::string path = dir.write("c.toml", "max_iters = 11\n");
    const std::string e = error_of([&] { train::load_config(path, {"dataset=\x85\x85seed"}); });
    CHECK(e.find("--set dataset: byte 8 (0x85) is not valid UTF-8") != std::string::npos);
    CHECK(error_of([&] { train::load_config(path, {"arith.linear=lmul:m=4\xc3"}); }).find("arith.linear") !=
          std::string::npos);
    CHECK_NOTHROW(train::load_config(path, {"out_dir=runs/caf\xc3\xa9"}));  // é is fine
  }

  TEST_CASE("meta.json with a non-integer vocab_size is a corrupt meta.json, not undefined behaviour (fuzz_dataset)") {
    // vocab_size 1e30 went through get<int64_t>(), a float-to-integer conversion out of range (UBSan).
    test::TempDir dir;
    dir.write("train.bin", "abcd");
    dir.write("val.bin", "abcd");
    for (const char* vocab : {"1e30", "14.5", "\"14\""}) {
      CAPTURE(vocab);
      dir.write("meta.json", fmt::format(R"({{"tokenizer": "char", "vocab_size": {}, "chars": ["a"]}})", vocab));
      const std::string e = error_of([&] { data::TokenDataset ds(dir.str()); });
      CHECK(e.find("corrupt meta.json") != std::string::npos);
      CHECK(e.find("is not an integer") != std::string::npos);
    }
    // A token count whose double wraps around 2^64 no longer matches an empty file.
    dir.write("meta.json", R"({"vocab_size": 14, "train_tokens": 9223372036854775808})");
    dir.write("train.bin", "");
    CHECK(error_of([&] { data::TokenDataset ds(dir.str()); }).find("meta.json says train_tokens") != std::string::npos);
  }

  TEST_CASE("a JSON number too large for a double is malformed JSON, not an escaping exception (fuzz_dataset)") {
    // nlohmann::json::parse throws out_of_range, not parse_error, for 1e400: load_tokenizer and
    // load_bpe_vocab caught only parse_error, so it escaped as an internal error.
    test::TempDir dir;
    dir.write("meta.json", R"({"tokenizer": "char", "vocab_size": 1e400, "chars": ["a"]})");
    const std::string meta = error_of([&] { data::load_tokenizer(dir.str()); });
    CHECK(meta.find("meta.json: malformed JSON") != std::string::npos);
    dir.write("encoder.json", R"({"a": 1e400})");
    dir.write("vocab.bpe", "#version: 0.2\n");
    const std::string encoder = error_of([&] { data::load_bpe_vocab(dir.str()); });
    CHECK(encoder.find("encoder.json: malformed JSON") != std::string::npos);
  }

  TEST_CASE("a vocab.bpe merge with bytes that are not UTF-8 is an error naming the line (fuzz_bpe_vocab)") {
    // The message quoted the token with nlohmann::json::dump(), which throws type_error on invalid
    // UTF-8: the error escaped as an internal one.
    test::TempDir dir;
    std::string encoder = "{";
    const auto b2u = data::gpt2_byte_to_unicode();
    for (int b = 0; b < 256; ++b) {
      std::string token;
      const char32_t cp = b2u[static_cast<size_t>(b)];  // < U+0800: one or two UTF-8 bytes
      if (cp < 0x80) {
        token = std::string(1, static_cast<char>(cp));
      } else {
        token = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      }
      encoder += nlohmann::json(token).dump() + ": " + std::to_string(b) + ", ";
    }
    encoder += "\"<|endoftext|>\": 256}";
    dir.write("encoder.json", encoder);
    dir.write("vocab.bpe", "#version: 0.2\n");
    CHECK_NOTHROW(data::load_bpe_vocab(dir.str()));  // the bytes-only vocabulary loads
    dir.write("vocab.bpe", "#version: 0.2\na \xff\xfe\n");
    const std::string e = error_of([&] { data::load_bpe_vocab(dir.str()); });
    CHECK(e.find("vocab.bpe:2: token") != std::string::npos);
    CHECK(e.find("outside GPT-2's byte alphabet") != std::string::npos);
  }
}
