// prepare gpt2 on corpora as downloaded: OpenWebText's tar of .xz of tar of .txt, .jsonl.zst and
// friends, built here from ../shared/data/owt_sample with libarchive's writer. Archives give the
// bytes the same documents give as plain files; bad archives are one-line errors that leave
// nothing behind.
#include <doctest/doctest.h>
#include <zlib.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/document_split.h"
#include "data/bpe_pretokenize.h"
#include "data/document_stream.h"
#include "data/prepare_gpt2.h"
#include "data/text_cleanup.h"
#include "data/token_dataset.h"
#include "tests/archive_fixture.h"
#include "tests/gpt2_fixture.h"
#include "tests/temp_dir.h"
#include "tests/test_helpers.h"

using lmul::Error;
using lmul::data::prepare_gpt2;
using lmul::data::PrepareGpt2Options;
using lmul::test::compress;
using lmul::test::Compression;
using lmul::test::make_tar;
using lmul::test::slurp;
using lmul::test::TempDir;

namespace {

const std::string kOwt = std::string(LMUL_SHARED_DIR) + "/data/owt_sample/openwebtext_hf_first100.txt";

PrepareGpt2Options options(std::vector<std::string> inputs, const std::string& out, double val_fraction) {
  PrepareGpt2Options o;
  o.inputs = std::move(inputs);
  o.out_dir = out;
  o.vocab_dir = lmul::test::kGpt2Dir;
  o.val_fraction = val_fraction;
  o.workers = 2;
  return o;
}

// The web-text sample cut into n documents at paragraph breaks (its 100 documents are not marked).
std::vector<std::string> web_docs(size_t n) {
  const std::string text = slurp(kOwt);
  std::vector<std::string> docs;
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t end = i + 1 == n ? text.size() : text.find("\n\n", pos + text.size() / n);
    if (end == std::string::npos) end = text.size();
    docs.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return docs;
}

using Members = std::vector<std::pair<std::string, std::string>>;

// OpenWebText's layout: subsets/urlsf_subsetSS.tar holds openwebtext/urlsf_subsetSS-K_data.xz,
// each an xz-compressed tar of NNNNNNN-<hash>.txt documents. Also writes the same documents as
// plain .txt files in dir/plain, named so that their sorted order is the archives' order.
void write_owt_layout(const TempDir& dir, const std::vector<std::string>& docs, size_t subsets, size_t per_xz) {
  size_t d = 0;
  for (size_t s = 0; s < subsets; ++s) {
    Members xzs;
    for (size_t k = 0; d < docs.size() * (s + 1) / subsets; ++k) {
      Members txts;
      for (size_t j = 0; j < per_xz && d < docs.size() * (s + 1) / subsets; ++j, ++d) {
        txts.emplace_back(fmt::format("{:07}-{:x}.txt", d, d * 2654435761u % 0xFFFFFF), docs[d]);
        dir.write(fmt::format("plain/{:07}.txt", d), docs[d]);
      }
      xzs.emplace_back(fmt::format("openwebtext/urlsf_subset{:02}-{}_data.xz", s, k + 1),
                       make_tar(txts, Compression::xz, 1));
    }
    dir.write(fmt::format("subsets/urlsf_subset{:02}.tar", s), make_tar(xzs));
  }
}

void check_same_outputs(const TempDir& a, const TempDir& b) {
  CHECK(slurp(a / "train.bin") == slurp(b / "train.bin"));
  CHECK(slurp(a / "val.bin") == slurp(b / "val.bin"));
  auto ma = nlohmann::json::parse(slurp(a / "meta.json")), mb = nlohmann::json::parse(slurp(b / "meta.json"));
  for (const char* key : {"documents", "val_documents", "train_tokens", "val_tokens", "train_crc32", "val_crc32"})
    CHECK_MESSAGE(ma[key] == mb[key], key);
}

uint32_t file_crc32(const std::string& path) {
  std::string b = slurp(path);
  return static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(b.data()), b.size()));
}

}  // namespace

TEST_SUITE("data.prepare") {
  TEST_CASE("OpenWebText's layout (tar of .xz of tar of .txt) gives the bytes of the same documents as .txt files") {
    TempDir in, out_plain, out_owt, out_serial;
    auto docs = web_docs(120);
    write_owt_layout(in, docs, 2, 25);
    auto r_plain = prepare_gpt2(options({in / "plain"}, out_plain.str(), 0.05));
    auto o = options({in / "subsets"}, out_owt.str(), 0.05);
    o.batch_bytes = 200000;  // several batches
    auto r_owt = prepare_gpt2(o);
    CHECK(r_owt.documents == 120);
    CHECK(r_owt.val_documents == 6);
    CHECK(r_owt.skipped_members == 0);
    CHECK(r_owt.totals.train_tokens == r_plain.totals.train_tokens);
    check_same_outputs(out_plain, out_owt);
    // Nested members decompressed by the reading thread instead of the workers, one worker: same bytes.
    o.out_dir = out_serial.str();
    o.whole_member_bytes = 0;
    o.workers = 1;
    prepare_gpt2(o);
    check_same_outputs(out_plain, out_serial);
    auto meta = nlohmann::json::parse(slurp(out_owt / "meta.json"));
    CHECK(meta["complete"] == true);
    CHECK(meta["seed"] == 2357);
    CHECK(meta["train_crc32"] == fmt::format("{:08x}", file_crc32(out_owt / "train.bin")));
    CHECK(meta["val_crc32"] == fmt::format("{:08x}", file_crc32(out_owt / "val.bin")));
    CHECK(meta["input_bytes"].get<uint64_t>() == std::filesystem::file_size(in / "subsets/urlsf_subset00.tar") +
                                                     std::filesystem::file_size(in / "subsets/urlsf_subset01.tar"));
  }

  TEST_CASE(".jsonl.zst, .jsonl.gz, .tar.bz2 and .txt.xz give the bytes of the same documents unpacked") {
    TempDir in, out_plain, out_packed;
    auto docs = web_docs(12);
    std::string jsonl_a, jsonl_b;
    Members tar_c;
    for (size_t i = 0; i < docs.size(); ++i) {
      in.write(fmt::format("plain/{:02}.jsonl", i / 4), "");  // placeholder, rewritten below
      std::string line = nlohmann::json{{"text", docs[i]}, {"meta", i}}.dump() + "\n";
      if (i < 4)
        jsonl_a += line;
      else if (i < 8)
        jsonl_b += line;
      else
        tar_c.emplace_back(fmt::format("c/{:02}.txt", i), docs[i]);
    }
    in.write("plain/00.jsonl", jsonl_a);
    in.write("plain/01.jsonl", jsonl_b);
    std::filesystem::remove(in / "plain/02.jsonl");
    for (size_t i = 8; i < 11; ++i) in.write(fmt::format("plain/02_{:02}.txt", i), docs[i]);
    in.write("plain/03.txt", docs[11]);
    in.write("packed/00.jsonl.zst", compress(jsonl_a, Compression::zstd));
    in.write("packed/01.jsonl.gz", compress(jsonl_b, Compression::gzip));
    tar_c.pop_back();
    in.write("packed/02.tar.bz2", make_tar(tar_c, Compression::bzip2));
    in.write("packed/03.txt.xz", compress(docs[11], Compression::xz));
    prepare_gpt2(options({in / "plain"}, out_plain.str(), 0.2));
    auto r = prepare_gpt2(options({in / "packed"}, out_packed.str(), 0.2));
    CHECK(r.documents == 12);
    check_same_outputs(out_plain, out_packed);
  }

  TEST_CASE("a document larger than one chunk inside an archive is cut where it changes no token") {
    TempDir in, out_plain, out_packed;
    std::string big = slurp(kOwt);
    big = big + big + big + big + big;  // 2.5 MB > 2 chunks
    REQUIRE(big.size() > 2 * lmul::data::DocumentStream::kChunkBytes);
    in.write("plain/a.txt", big);
    in.write("plain/b.txt", "tail");
    in.write("big.tar.xz", make_tar({{"a.txt", big}, {"b.txt", "tail"}}, Compression::xz, 0));
    auto o = options({in / "big.tar.xz"}, out_packed.str(), 0.0);
    o.whole_member_bytes = 0;
    prepare_gpt2(options({in / "plain"}, out_plain.str(), 0.0));
    prepare_gpt2(o);
    check_same_outputs(out_plain, out_packed);
    auto want = lmul::test::gpt2().encode(big);
    CHECK(slurp(out_packed / "train.bin").size() == 2 * (want.size() + 1 + 1 + 1));  // big, EOT, "tail", EOT
  }

  TEST_CASE("documents that are not UTF-8 are kept byte for byte and counted; other members are skipped") {
    TempDir in, out_plain, out_packed;
    const std::string latin1 = "caf\xE9 cr\xE8me \xFF\xFE end";
    in.write("plain/1.txt", "valid text");
    in.write("plain/2.txt", latin1);
    in.write("docs.tgz", make_tar({{"1.txt", "valid text"}, {"README.md", "not a document"}, {"dir/2.txt", latin1}},
                                  Compression::gzip));
    prepare_gpt2(options({in / "plain"}, out_plain.str(), 0.0));
    auto r = prepare_gpt2(options({in / "docs.tgz"}, out_packed.str(), 0.0));
    check_same_outputs(out_plain, out_packed);
    CHECK(r.invalid_utf8_documents == 1);
    CHECK(r.skipped_members == 1);
    auto ids = lmul::test::gpt2().encode(latin1);
    CHECK(lmul::test::gpt2().decode(ids) == latin1);
    auto meta = nlohmann::json::parse(slurp(out_packed / "meta.json"));
    CHECK(meta["invalid_utf8_documents"] == 1);
    CHECK(meta["skipped_members"] == 1);
  }

  TEST_CASE("corrupt, truncated, unsupported and empty archives are one-line errors and leave the old outputs") {
    TempDir in, out;
    out.write("train.bin", "old");
    out.write("meta.json", "{}");
    auto untouched = [&] {
      CHECK(slurp(out / "train.bin") == "old");
      CHECK(slurp(out / "meta.json") == "{}");
      CHECK_FALSE(std::filesystem::exists(out / "val.bin"));
      CHECK_FALSE(std::filesystem::exists(out / "train.bin.tmp"));
      CHECK_FALSE(std::filesystem::exists(out / "val.bin.tmp"));
    };
    auto fails = [&](const std::string& input, const std::string& message) {
      auto o = options({input}, out.str(), 0.1);
      o.batch_bytes = 1;  // the good documents before the bad one are written first
      try {
        prepare_gpt2(o);
        FAIL("no error for ", input);
      } catch (const Error& e) {
        CHECK_MESSAGE(std::string(e.what()).find(message) != std::string::npos, e.what());
        CHECK(std::string(e.what()).find('\n') == std::string::npos);
      }
      untouched();
    };
    auto docs = web_docs(8);
    Members txts;
    for (size_t i = 0; i < docs.size(); ++i) txts.emplace_back(fmt::format("{}.txt", i), docs[i]);
    std::string good_xz = make_tar(txts, Compression::xz, 1);

    std::string bad_xz = good_xz;  // flip bytes in the middle of the compressed data
    for (size_t i = bad_xz.size() / 2; i < bad_xz.size() / 2 + 16; ++i) bad_xz[i] = static_cast<char>(~bad_xz[i]);
    fails(in.write("corrupt.tar", make_tar({{"ok.xz", good_xz}, {"bad_data.xz", bad_xz}})), "corrupt.tar/bad_data.xz");

    std::string outer = make_tar({{"a.xz", good_xz}, {"b.xz", good_xz}});
    fails(in.write("truncated.tar", outer.substr(0, outer.size() - good_xz.size() / 2 - 2048)), "truncated.tar");
    fails(in.write("truncated.txt.xz", compress(docs[0], Compression::xz).substr(0, 300)), "truncated.txt.xz");
    fails(in.write("notatar.tar", "just some text, no tar header here"),
          "notatar.tar: neither a tar archive nor a compressed file");
    fails(in.write("data.zip", "PK\x03\x04 pretend zip"), "data.zip: unsupported archive format");
    fails(in.write("zip_inside.tar", make_tar({{"x.zip", "PK"}})), "zip_inside.tar/x.zip: unsupported archive format");
    fails(in.write("empty.tar", make_tar({})), "empty.tar: empty input, no documents");
    fails(in.write("only_readme.tar.gz", make_tar({{"README", "x"}}, Compression::gzip)), "empty input, no documents");
    fails(in.write("empty.xz", ""), "empty.xz: cannot open");
  }

  TEST_CASE("a run killed before the end leaves *.tmp files that the next run replaces") {
    TempDir in, out;
    in.write("d/a.txt", "one");
    in.write("d/b.txt", "two");
    out.write("train.bin.tmp", "left by a killed run");
    out.write("val.bin.tmp", "left by a killed run");
    prepare_gpt2(options({in / "d"}, out.str(), 0.0));
    CHECK(slurp(out / "train.bin") == slurp(out / "train.bin"));
    CHECK(std::filesystem::file_size(out / "train.bin") == 2 * 4);  // one, EOT, two, EOT
    CHECK_FALSE(std::filesystem::exists(out / "train.bin.tmp"));
    CHECK_FALSE(std::filesystem::exists(out / "val.bin.tmp"));
  }

  TEST_CASE("the document split: floor or ceil of N·F val documents, one per block, fixed by the seed") {
    // OpenWebText's 8,013,769 documents at nanoGPT's F = 0.0005 (nanoGPT: 4,007 val documents).
    lmul::data::DocumentSplit split(0.0005, 2357);
    uint64_t n_val = 0, last = 0, max_gap = 0;
    std::vector<uint64_t> first_picks;
    for (uint64_t i = 0; i < 8013769; ++i)
      if (split.is_val(i)) {
        if (n_val) max_gap = std::max(max_gap, i - last);
        if (first_picks.size() < 5) first_picks.push_back(i);
        last = i;
        ++n_val;
      }
    CHECK((n_val == 4006 || n_val == 4007));
    CHECK(max_gap < 4000);  // one per block of ~2000
    lmul::data::DocumentSplit other(0.0005, 1);
    std::vector<uint64_t> other_picks;
    for (uint64_t i = 0; other_picks.size() < 5; ++i)
      if (other.is_val(i)) other_picks.push_back(i);
    CHECK(first_picks != other_picks);
    for (double f : {0.1, 0.25, 0.5, 0.9}) {
      lmul::data::DocumentSplit s(f, 7);
      uint64_t n = 0;
      for (uint64_t i = 0; i < 1000; ++i) n += s.is_val(i);
      CHECK_MESSAGE(std::abs(static_cast<double>(n) - 1000 * f) <= 1.0 + 1e-9, f);
    }
    lmul::data::DocumentSplit none(0.0, 7);
    for (uint64_t i = 0; i < 1000; ++i) REQUIRE_FALSE(none.is_val(i));
  }

  TEST_CASE("a corpus too small for F to pick a document still gets one val document, the last") {
    TempDir in, out;
    in.write("d/a.txt", "one");
    in.write("d/b.txt", "two");
    in.write("d/c.txt", "three");
    auto r = prepare_gpt2(options({in / "d"}, out.str(), 0.0005));
    CHECK(r.val_documents == 1);
    auto want_val = lmul::test::gpt2().encode("three");
    want_val.push_back(50256);
    CHECK(slurp(out / "val.bin").size() == 2 * want_val.size());
    CHECK(std::filesystem::file_size(out / "train.bin") == 2 * 4);
    auto meta = nlohmann::json::parse(slurp(out / "meta.json"));
    CHECK(meta["train_crc32"] == fmt::format("{:08x}", file_crc32(out / "train.bin")));
    CHECK(meta["val_crc32"] == fmt::format("{:08x}", file_crc32(out / "val.bin")));
  }

  TEST_CASE("hf-openwebtext clean-up: newline runs of 3+ become 2, Python's strip at the document's ends") {
    using lmul::data::hf_openwebtext_clean;
    CHECK(hf_openwebtext_clean(" \n\xC2\xA0 a\n\n\nb\n\nc\n\n\n\n\nd \xE3\x80\x80\n", true, true) ==
          "a\n\nb\n\nc\n\nd");
    CHECK(hf_openwebtext_clean("  a\n\n\n", false, false) == "  a\n\n");
    CHECK(hf_openwebtext_clean("x \xFF", true, true) == "x \xFF");  // an invalid byte is no space
    CHECK(hf_openwebtext_clean("\x1F\x85", true, true) == "\x85");  // U+001F strips; a lone 0x85 byte is no character
    // Cut where the tokenizer may cut a document, the pieces clean to the cleaned whole.
    std::string doc = "\n\n " + slurp(kOwt).substr(0, 200000) + "\n\n\n\n  \n";
    std::string whole = hf_openwebtext_clean(doc, true, true), pieces;
    size_t pos = 0, n_pieces = 0;
    while (pos < doc.size()) {
      const size_t end = pos + 30000 >= doc.size() ? doc.size() : lmul::data::pretoken_safe_split(doc, pos + 30000);
      pieces += hf_openwebtext_clean(std::string_view(doc).substr(pos, end - pos), pos == 0, end == doc.size());
      pos = end;
      ++n_pieces;
    }
    CHECK(n_pieces > 5);
    CHECK(pieces == whole);
  }

  TEST_CASE("--text-cleanup hf-openwebtext cleans archive documents as they would be cleaned unpacked") {
    TempDir in, out_plain, out_packed;
    std::string a = "\n  First document.\n\n\n\nSecond paragraph.  \n", b = "Another\n\n\nstory";
    in.write("plain/a.txt", "First document.\n\nSecond paragraph.");
    in.write("plain/b.txt", "Another\n\nstory");
    in.write("owt.tar", make_tar({{"x_data.xz", make_tar({{"a.txt", a}, {"b.txt", b}}, Compression::xz)}}));
    prepare_gpt2(options({in / "plain"}, out_plain.str(), 0.0));
    auto o = options({in / "owt.tar"}, out_packed.str(), 0.0);
    o.cleanup = lmul::data::TextCleanup::hf_openwebtext;
    prepare_gpt2(o);
    check_same_outputs(out_plain, out_packed);
  }

}  // TEST_SUITE

TEST_SUITE("data.prepare") {
  TEST_CASE("lmul prepare gpt2 on OpenWebText's layout: exit 0, counts and notes; a corrupt member: exit 2, one line") {
    TempDir in, out;
    auto docs = web_docs(10);
    Members txts;
    for (size_t i = 0; i < docs.size(); ++i) txts.emplace_back(fmt::format("{}.txt", i), docs[i]);
    txts.emplace_back("LICENSE", "not a document");
    const std::string xz = make_tar(txts, Compression::xz, 1);
    in.write("subsets/urlsf_subset00.tar", make_tar({{"openwebtext/urlsf_subset00-1_data.xz", xz}}));
    const std::string vocab = " --vocab '" + lmul::test::kGpt2Dir + "'";
    auto r = lmul::testing::run_lmul("prepare gpt2 --input '" + (in / "subsets") + "' --out '" + out.str() + "'" +
                                     vocab + " --workers 2 --val-fraction 0.2 --seed 3");
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.find("10 documents (2 val)") != std::string::npos);
    CHECK(r.output.find("1 archive members skipped") != std::string::npos);
    auto meta = nlohmann::json::parse(slurp(out / "meta.json"));
    CHECK(meta["seed"] == 3);
    CHECK(meta["complete"] == true);
    lmul::data::TokenDataset ds(out.str());
    CHECK(ds.tokens(lmul::data::Split::val) == meta["val_tokens"].get<int64_t>());

    std::string bad = xz;
    for (size_t i = bad.size() / 2; i < bad.size() / 2 + 16; ++i) bad[i] = static_cast<char>(~bad[i]);
    in.write("bad.tar", make_tar({{"urlsf_subset00-1_data.xz", bad}}));
    r = lmul::testing::run_lmul("prepare gpt2 --input '" + (in / "bad.tar") + "' --out '" + (out / "o2") + "'" + vocab);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("lmul: error: " + (in / "bad.tar") + "/urlsf_subset00-1_data.xz") != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  }

  TEST_CASE("a dataset whose .bin does not match meta.json's token count is refused") {
    TempDir in, out;
    in.write("d/a.txt", "one two three");
    in.write("d/b.txt", "four");
    prepare_gpt2(options({in / "d"}, out.str(), 0.5));
    CHECK_NOTHROW(lmul::data::TokenDataset(out.str()));
    out.write("train.bin", "\x01\x02\x03\x04\x05\x06");  // a train.bin from some other run
    CHECK_THROWS_WITH_AS(lmul::data::TokenDataset(out.str()), doctest::Contains("meta.json says train_tokens ="),
                         Error);
  }

}  // TEST_SUITE
