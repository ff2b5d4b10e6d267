// prepare gpt2: nanoGPT's Shakespeare counts, document split with EOT, JSONL = directory,
// streaming/threads change no byte, and bad inputs leave nothing behind.
#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/document_split.h"
#include "data/document_stream.h"
#include "data/prepare_gpt2.h"
#include "tests/gpt2_fixture.h"
#include "tests/temp_dir.h"

using lmul::Error;
using lmul::data::prepare_gpt2;
using lmul::data::PrepareGpt2Options;
using lmul::test::gpt2;
using lmul::test::slurp;
using lmul::test::TempDir;

namespace {

const std::string kShakespeare = std::string(LMUL_SHARED_DIR) + "/data/tinyshakespeare/input.txt";
const std::string kOwt = std::string(LMUL_SHARED_DIR) + "/data/owt_sample/openwebtext_hf_first100.txt";

std::vector<uint16_t> read_bin(const std::string& path) {
  std::string b = slurp(path);
  REQUIRE(b.size() % 2 == 0);
  std::vector<uint16_t> v(b.size() / 2);
  for (size_t i = 0; i < v.size(); ++i)  // little-endian, whatever the host
    v[i] = static_cast<uint16_t>(static_cast<unsigned char>(b[2 * i]) | static_cast<unsigned char>(b[2 * i + 1]) << 8);
  return v;
}

std::vector<uint16_t> with_eot(std::string_view doc) {
  auto ids = gpt2().encode(doc);
  ids.push_back(50256);
  return {ids.begin(), ids.end()};
}

PrepareGpt2Options options(std::vector<std::string> inputs, const std::string& out, double val_fraction = 0.1) {
  PrepareGpt2Options o;
  o.inputs = std::move(inputs);
  o.out_dir = out;
  o.vocab_dir = lmul::test::kGpt2Dir;
  o.val_fraction = val_fraction;
  return o;
}

// Ten short documents with words, numbers, non-ASCII, leading/trailing whitespace.
std::vector<std::string> sample_docs() {
  std::vector<std::string> d;
  for (int i = 0; i < 10; ++i)
    d.push_back(
        fmt::format("  Document {} says: caf\xC3\xA9 {} it's\n\nthe end {}  ", i, i * 1234, std::string(i, '!')));
  return d;
}

}  // namespace

TEST_SUITE("data.prepare") {
  TEST_CASE("Tiny Shakespeare gives nanoGPT's 301,966 train and 36,059 val tokens, no EOT") {
    TempDir out;
    auto r = prepare_gpt2(options({kShakespeare}, out.str()));
    CHECK(r.split_by_characters);
    CHECK(r.totals.train_tokens == 301966);
    CHECK(r.totals.val_tokens == 36059);
    auto train = read_bin(out / "train.bin");
    REQUIRE(train.size() == 301966);
    CHECK(train[0] == 5962);   // "First"
    CHECK(train[1] == 22307);  // " Citizen"
    CHECK(std::count(train.begin(), train.end(), 50256) == 0);
    auto meta = nlohmann::json::parse(slurp(out / "meta.json"));
    CHECK(meta["tokenizer"] == "gpt2");
    CHECK(meta["vocab_size"] == 50257);
    CHECK(meta["train_tokens"] == 301966);
    CHECK(meta["val_tokens"] == 36059);
    CHECK(std::filesystem::path(meta["vocab_dir"].get<std::string>()).is_absolute());
    CHECK(lmul::data::load_tokenizer(out.str())->vocab_size() == 50257);
  }

  TEST_CASE("a text file larger than one chunk, split by characters, equals encoding each part whole") {
    TempDir in, out;
    std::string text = slurp(kOwt);
    text = text + text + text;  // 1.5 MB: several chunks per part
    auto path = in.write("big.txt", text);
    auto o = options({path}, out.str(), 0.25);
    o.batch_bytes = 300000;
    prepare_gpt2(o);
    size_t n_chars = 0, cut = 0;
    for (unsigned char c : text) n_chars += (c & 0xC0) != 0x80;
    const size_t cut_chars = static_cast<size_t>(n_chars * 0.75);
    for (size_t k = 0; cut < text.size(); ++cut)
      if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80 && k++ == cut_chars) break;
    auto want_train = gpt2().encode(std::string_view(text).substr(0, cut));
    auto want_val = gpt2().encode(std::string_view(text).substr(cut));
    CHECK(read_bin(out / "train.bin") == std::vector<uint16_t>(want_train.begin(), want_train.end()));
    CHECK(read_bin(out / "val.bin") == std::vector<uint16_t>(want_val.begin(), want_val.end()));
  }

  TEST_CASE("a directory: .txt files in sorted order, EOT after each, whole documents to val by the split") {
    TempDir in, out;
    auto docs = sample_docs();
    for (int i = 9; i >= 0; --i) in.write(fmt::format("d{:02}.txt", i), docs[i]);
    in.write("notes.md", "not a document");
    auto o = options({in.str()}, out.str(), 0.2);
    o.seed = 5;
    auto r = prepare_gpt2(o);
    CHECK_FALSE(r.split_by_characters);
    CHECK(r.documents == 10);
    CHECK(r.val_documents == 2);  // one in each block of 5
    lmul::data::DocumentSplit split(0.2, 5);
    std::vector<uint16_t> want_train, want_val;
    int n_val_first_block = 0;
    for (int i = 0; i < 10; ++i) {
      auto ids = with_eot(docs[i]);
      const bool val = split.is_val(i);
      n_val_first_block += val && i < 5;
      (val ? want_val : want_train).insert((val ? want_val : want_train).end(), ids.begin(), ids.end());
    }
    CHECK(n_val_first_block == 1);
    CHECK(read_bin(out / "train.bin") == want_train);
    CHECK(read_bin(out / "val.bin") == want_val);
    auto meta = nlohmann::json::parse(slurp(out / "meta.json"));
    CHECK(meta["split"] == "documents");
    CHECK(meta["val_documents"] == 2);
    CHECK(meta["seed"] == 5);
  }

  TEST_CASE("a .jsonl file gives the same bytes as the directory of the same documents") {
    TempDir in, out_dir, out_jsonl;
    auto docs = sample_docs();
    std::string jsonl;
    for (size_t i = 0; i < docs.size(); ++i) {
      in.write(fmt::format("docs/d{:02}.txt", i), docs[i]);
      jsonl += nlohmann::json{{"id", i}, {"text", docs[i]}}.dump() + (i == 4 ? "\n  \n" : "\n");  // a blank line
    }
    auto jpath = in.write("docs.jsonl", jsonl);
    prepare_gpt2(options({in / "docs"}, out_dir.str(), 0.2));
    prepare_gpt2(options({jpath}, out_jsonl.str(), 0.2));
    CHECK(slurp(out_dir / "train.bin") == slurp(out_jsonl / "train.bin"));
    CHECK(slurp(out_dir / "val.bin") == slurp(out_jsonl / "val.bin"));
  }

  TEST_CASE("worker count and batch size change no byte of the output") {
    TempDir out1, out4;
    const std::string pydocs = std::string(LMUL_SHARED_DIR) + "/data/owt_sample/pydocs_3.11";
    auto a = options({pydocs, kOwt}, out1.str(), 0.05);
    a.workers = 1;
    auto b = a;
    b.out_dir = out4.str();
    b.workers = 4;
    b.batch_bytes = 100000;
    auto ra = prepare_gpt2(a);
    prepare_gpt2(b);
    CHECK(ra.documents == 54);
    CHECK(ra.totals.train_tokens + ra.totals.val_tokens == 520731 + 113570 + 1);  // README counts, + 1 EOT
    CHECK(slurp(out1 / "train.bin") == slurp(out4 / "train.bin"));
    CHECK(slurp(out1 / "val.bin") == slurp(out4 / "val.bin"));
  }

  TEST_CASE("a document larger than one chunk is cut where it changes no token, EOT only at its end") {
    TempDir in, out;
    std::string big = slurp(kOwt);
    big = big + big + big;  // 1.5 MB > DocumentStream::kChunkBytes
    REQUIRE(big.size() > lmul::data::DocumentStream::kChunkBytes);
    in.write("a.txt", big);
    in.write("b.txt", "tail");
    auto o = options({in.str()}, out.str(), 0.0);
    o.batch_bytes = 1;  // one unit per batch
    o.workers = 2;
    prepare_gpt2(o);
    auto want = with_eot(big), b = with_eot("tail");
    want.insert(want.end(), b.begin(), b.end());
    CHECK(read_bin(out / "train.bin") == want);
  }

  TEST_CASE("val fraction 0 leaves val.bin empty") {
    TempDir in, out;
    in.write("a.txt", "one");
    in.write("b.txt", "two");
    auto r = prepare_gpt2(options({in.str()}, out.str(), 0.0));
    CHECK(r.totals.val_tokens == 0);
    CHECK(std::filesystem::file_size(out / "val.bin") == 0);
    CHECK(read_bin(out / "train.bin") == std::vector<uint16_t>{505, 50256, 11545, 50256});
  }

  TEST_CASE("bad inputs are one-line errors naming the place, and leave the old outputs untouched") {
    TempDir in, out;
    out.write("train.bin", "old");
    auto untouched = [&] {
      CHECK(slurp(out / "train.bin") == "old");
      CHECK_FALSE(std::filesystem::exists(out / "val.bin"));
      CHECK_FALSE(std::filesystem::exists(out / "train.bin.tmp"));
      CHECK_FALSE(std::filesystem::exists(out / "val.bin.tmp"));
      CHECK_FALSE(std::filesystem::exists(out / "meta.json"));
    };
    CHECK_THROWS_WITH_AS(prepare_gpt2(options({in / "missing.txt"}, out.str())),
                         doctest::Contains("missing.txt: no such file"), Error);
    untouched();
    auto empty = in.write("empty.txt", "");
    CHECK_THROWS_WITH_AS(prepare_gpt2(options({empty}, out.str())), doctest::Contains("empty.txt: empty input"), Error);
    untouched();
    std::filesystem::create_directories(in / "nodocs");
    CHECK_THROWS_WITH_AS(prepare_gpt2(options({in / "nodocs"}, out.str())),
                         doctest::Contains("nodocs: no .txt, .jsonl or archive files"), Error);
    untouched();
    auto bad = in.write("bad.jsonl", "{\"text\": \"ok\"}\n\n{\"text\": \"ok\"\n");
    CHECK_THROWS_WITH_AS(prepare_gpt2(options({bad}, out.str())), doctest::Contains("bad.jsonl:3: not valid JSON"),
                         Error);
    untouched();
    auto notext = in.write("notext.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n");
    CHECK_THROWS_WITH_AS(prepare_gpt2(options({notext}, out.str())),
                         doctest::Contains("notext.jsonl:2: expected an object"), Error);
    untouched();
    auto blank = in.write("blank.jsonl", "\n \n");
    CHECK_THROWS_WITH_AS(prepare_gpt2(options({blank}, out.str())), doctest::Contains("blank.jsonl: empty input"),
                         Error);
    untouched();
    CHECK_THROWS_WITH_AS(prepare_gpt2(options({kShakespeare}, out.str(), 1.5)), doctest::Contains("--val-fraction 1.5"),
                         Error);
    untouched();
    try {
      prepare_gpt2(options({bad}, out.str()));
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }

}  // TEST_SUITE
