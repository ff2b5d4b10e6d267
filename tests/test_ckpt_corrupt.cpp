// Corrupt or foreign checkpoint files give a one-line error (exit 2), never a crash, through
// lmul inspect, lmul eval, lmul sample and lmul train --resume.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;

namespace {
void tiny_run(const TempDir& d, const std::string& name, const std::string& n_embd) {
  write_file(d / "c.toml", "");
  train::TrainConfig c = train::load_config(
      d / "c.toml", {"dataset=" + shakespeare_char_dir(), "out_dir=" + (d / name), "n_layer=1", "n_head=2",
                     "n_embd=" + n_embd, "block_size=16", "batch_size=2", "max_iters=3", "eval_interval=3",
                     "eval_iters=1", "warmup_iters=1", "lr_decay_iters=3", "threads=1"});
  train::train(c, {false, true});
}

// A trained run whose latest is replaced by `bytes`; the original stays in <run>/ckpt/good.
struct Fixture {
  TempDir d;
  std::string good;
  Fixture() {
    tiny_run(d, "run", "16");
    good = read_file(d / "run/ckpt/latest.safetensors");
  }
  std::string latest() const { return d / "run/ckpt/latest.safetensors"; }
  void put(const std::string& bytes) const { write_file(latest(), bytes); }
};

size_t header_end(const std::string& file) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(file[static_cast<size_t>(i)]);
  return 8 + n;
}

// Every command that reads the checkpoint fails with exit 2 and one line naming `needle`.
void check_every_reader_fails(const Fixture& f, const std::string& needle) {
  const std::string run = f.d / "run";
  for (const std::string& cmd :
       {"eval " + run, "sample " + run + " --max-new-tokens 2", "train " + run + " --resume -q",
        "export " + run + " --out " + (f.d / "x.safetensors")}) {
    CAPTURE(cmd);
    auto r = run_lmul(cmd);
    CHECK(r.exit_code == 2);
    CHECK(r.output.rfind("lmul: error: ", 0) == 0);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK(r.output.find(needle) != std::string::npos);
  }
  auto r = run_lmul("inspect " + f.latest());
  CAPTURE(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("lmul: error: ") != std::string::npos);
  CHECK(r.output.find(needle) != std::string::npos);
}
}  // namespace

TEST_SUITE("ckpt") {
  TEST_CASE("inspect of a valid checkpoint prints tensors, step, config, arithmetic and checksum ok") {
    Fixture f;
    auto r = run_lmul("inspect " + f.latest());
    CHECK(r.exit_code == 0);
    for (const char* s :
         {"step: 3", "n_layer=1 n_head=2 n_embd=16", "arith: ", "linear=exact", "transformer.wte.weight", "F32",
          "(65, 16)", "optim.exp_avg_sq.transformer.wpe.weight", "checksum: ok", "tensors fit the config's model: yes"})
      CHECK_MESSAGE(r.output.find(s) != std::string::npos, s);
  }

  TEST_CASE("a truncated checkpoint is a one-line error everywhere") {
    Fixture f;
    f.put(f.good.substr(0, f.good.size() / 2));
    check_every_reader_fails(f, "truncated");
    f.put(f.good.substr(0, 5));
    check_every_reader_fails(f, "not a safetensors file");
  }

  TEST_CASE("a flipped data byte is a checksum mismatch; inspect still prints the header") {
    Fixture f;
    std::string bad = f.good;
    bad[bad.size() - 3] = static_cast<char>(bad[bad.size() - 3] ^ 0x10);
    f.put(bad);
    check_every_reader_fails(f, "checksum mismatch");
    auto r = run_lmul("inspect " + f.latest());
    CHECK(r.output.find("checksum: MISMATCH") != std::string::npos);
    CHECK(r.output.find("transformer.wte.weight") != std::string::npos);
  }

  TEST_CASE("a flipped header byte that still parses is a checksum mismatch") {
    Fixture f;
    std::string bad = f.good;
    const size_t at = bad.find("\"step\":\"3\"");
    REQUIRE(at != std::string::npos);
    bad[at + 8] = '7';  // step 3 → 7
    f.put(bad);
    check_every_reader_fails(f, "checksum mismatch");
  }

  TEST_CASE("a flipped header byte that breaks the JSON is a one-line error") {
    Fixture f;
    std::string bad = f.good;
    bad[8] = static_cast<char>(bad[8] ^ 0x01);  // '{' → 'z'
    f.put(bad);
    check_every_reader_fails(f, "corrupt safetensors header");
    bad = f.good;
    bad[header_end(bad) - 20] = '\n';  // a control character inside the header
    f.put(bad);
    for (const std::string& cmd : {"eval " + (f.d / "run"), "inspect " + f.latest()}) {
      auto r = run_lmul(cmd);
      CHECK(r.exit_code == 2);
      CHECK(r.output.rfind("lmul: error: ", 0) == 0);
    }
  }

  TEST_CASE("a tensor of the wrong shape or dtype with a valid checksum is named") {
    Fixture f;
    SafetensorsFile sf = SafetensorsFile::load(f.latest());
    for (bool wrong_dtype : {false, true}) {
      CAPTURE(wrong_dtype);
      std::vector<SafetensorsOut> t;
      std::vector<float> wpe;
      for (const auto& [name, e] : sf.entries()) {
        if (name == "transformer.wpe.weight") {
          auto v = sf.f32(name);
          wpe.assign(v.begin(), v.begin() + 8 * 16);
          if (wrong_dtype)
            t.push_back({name, "I32", e.shape, sf.bytes(name)});
          else
            t.push_back(f32_tensor(name, {8, 16}, wpe));
          continue;
        }
        t.push_back({name, e.dtype, e.shape, sf.bytes(name)});
      }
      auto meta = sf.metadata();
      meta["checksum"] = train::checkpoint_checksum(t, meta);
      save_safetensors(f.latest(), t, meta);
      check_every_reader_fails(
          f, wrong_dtype ? "is I32, expected F32" : "has shape (8, 16) but the model expects (16, 16)");
    }
  }

  TEST_CASE("a checkpoint from another model shape is refused with the key or tensor named") {
    Fixture f;
    tiny_run(f.d, "wide", "32");
    f.put(read_file(f.d / "wide/ckpt/latest.safetensors"));
    auto r = run_lmul("train " + (f.d / "run") + " --resume -q");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("cannot resume with n_embd=16: the checkpoint was trained with n_embd=32") !=
          std::string::npos);
    // sample, like eval and export, builds the model the checkpoint's own config describes
    r = run_lmul("sample " + (f.d / "run") + " --max-new-tokens 2");
    CHECK(r.exit_code == 0);
  }

  TEST_CASE("a text file or a safetensors without lmul metadata is not a checkpoint") {
    Fixture f;
    f.put("First Citizen:\nBefore we proceed any further, hear me speak.\n");
    check_every_reader_fails(f, "not a safetensors file");
    f.put(read_file(std::string(LMUL_SOURCE_DIR) + "/tests/golden/gpt_tiny_bias.safetensors"));
    check_every_reader_fails(f, "not an lmul checkpoint");
  }
}
