// lmul export files (the codecs themselves: test_arith_export.cpp) and lmul eval.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"
#include "nn/gpt.h"
#include "core/arith/arith.h"
#include "core/arith/export_codec.h"
#include "core/error.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;

namespace {
void tiny_run(const TempDir& d, std::vector<std::string> extra = {}) {
  write_file(d / "c.toml", "");
  std::vector<std::string> sets = {"dataset=" + shakespeare_char_dir(),
                                   "out_dir=" + (d / "run"),
                                   "n_layer=2",
                                   "n_head=2",
                                   "n_embd=32",
                                   "block_size=16",
                                   "batch_size=4",
                                   "max_iters=12",
                                   "eval_interval=6",
                                   "eval_iters=3",
                                   "warmup_iters=2",
                                   "lr_decay_iters=12",
                                   "threads=2",
                                   "bias=true"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  train::TrainConfig c = train::load_config(d / "c.toml", sets);
  train::train(c, {false, true});
}

nlohmann::json last_metrics(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line, last;
  while (std::getline(in, line)) last = line;
  return nlohmann::json::parse(last);
}
}  // namespace

TEST_SUITE("ckpt") {
  TEST_CASE("lmul eval with the run's eval settings reproduces its final val_loss bit for bit") {
    TempDir d;
    tiny_run(d);
    auto r = run_lmul("eval " + (d / "run") + " --json");
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.output);
    CHECK(j["loss"].dump() == last_metrics(d / "run/metrics.jsonl")["val_loss"].dump());
    CHECK(j["step"] == 12);
    r = run_lmul("eval " + (d / "run") + " --split train --iters 2 --batch-size 3");
    CHECK(r.exit_code == 0);
    CHECK(r.output.rfind("train loss ", 0) == 0);
    CHECK(r.output.find("(arith: linear=exact, attention=exact, head=exact, embedding=exact, backward=same)") !=
          std::string::npos);
  }

  TEST_CASE("lmul eval --dump-batches writes the x, y ids it evaluated") {
    TempDir d;
    tiny_run(d);
    auto r = run_lmul("eval " + (d / "run/ckpt/latest.safetensors") + " --iters 2 --batch-size 3 --dump-batches " +
                      (d / "b.safetensors"));
    REQUIRE(r.exit_code == 0);
    auto f = SafetensorsFile::load(d / "b.safetensors");
    CHECK(f.entry("x").shape == Shape{2, 3, 16});
    auto x = f.i32("x"), y = f.i32("y");
    for (size_t row = 0; row < 6; ++row)
      for (size_t t = 0; t + 1 < 16; ++t) CHECK(y[row * 16 + t] == x[row * 16 + t + 1]);
  }

  TEST_CASE("lmul eval --last-token averages the loss of each sequence's last position only") {
    TempDir d;
    tiny_run(d);
    auto r = run_lmul("eval " + (d / "run") + " --json --last-token --iters 2 --batch-size 3 --dump-batches " +
                      (d / "b.safetensors"));
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.output);
    CHECK(j["positions"] == "last");
    // Recompute in-process through the other code path: logits of the last position only, CE in double.
    const auto meta = train::read_checkpoint_meta(d / "run/ckpt/latest.safetensors");
    const train::TrainConfig c = train::config_from_json(meta.config, "run", {});
    nn::GPT model(train::model_config(c, c.vocab_size), c.arith, 0);
    train::load_checkpoint(d / "run/ckpt/latest.safetensors", model);
    model.set_training(false);
    auto f = SafetensorsFile::load(d / "b.safetensors");
    const auto x = f.i32("x"), y = f.i32("y");
    const int64_t T = 16, V = c.vocab_size;
    Rng rng(0);
    double sum = 0;
    for (int64_t it = 0; it < 2; ++it) {
      const std::span<const int32_t> xs(x.data() + it * 3 * T, 3 * T);
      const Tensor logits = model.forward(xs, 3, T, {}, rng, true).logits;
      REQUIRE(logits.shape() == Shape{3, 1, V});
      for (int64_t b = 0; b < 3; ++b) {
        const float* l = logits.data() + b * V;
        double mx = l[0], z = 0;
        for (int64_t v = 1; v < V; ++v) mx = std::max(mx, double(l[v]));
        for (int64_t v = 0; v < V; ++v) z += std::exp(double(l[v]) - mx);
        sum += mx + std::log(z) - l[y[(it * 3 + b) * T + T - 1]];
      }
    }
    CHECK(j["loss"].get<double>() == doctest::Approx(sum / 6).epsilon(1e-5));
    // The mean over all positions is a different number (earlier positions see less context).
    r = run_lmul("eval " + (d / "run") + " --json --iters 2 --batch-size 3");
    CHECK(nlohmann::json::parse(r.output)["loss"].get<double>() != doctest::Approx(sum / 6).epsilon(1e-3));
  }

  TEST_CASE("lmul eval of several runs prints each, then their mean ± sample std") {
    TempDir d;
    tiny_run(d);
    tiny_run(d, {"out_dir=" + (d / "run2"), "seed=7"});
    auto r = run_lmul("eval " + (d / "run") + " " + (d / "run2") + " --json");
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.output);
    std::string l1, l2, l3;
    std::getline(lines, l1), std::getline(lines, l2), std::getline(lines, l3);
    const double a = nlohmann::json::parse(l1)["loss"], b = nlohmann::json::parse(l2)["loss"];
    CHECK(a == last_metrics(d / "run/metrics.jsonl")["val_loss"].get<double>());
    CHECK(b == last_metrics(d / "run2/metrics.jsonl")["val_loss"].get<double>());
    CHECK(a != b);
    const auto sum = nlohmann::json::parse(l3)["summary"];
    CHECK(sum["n"] == 2);
    CHECK(sum["mean"].get<double>() == doctest::Approx((a + b) / 2));
    CHECK(sum["std"].get<double>() == doctest::Approx(std::abs(a - b) / std::sqrt(2.0)));
    r = run_lmul("eval " + (d / "run") + " " + (d / "run2"));
    CHECK(r.output.find("mean val loss over 2 targets: ") != std::string::npos);
    r = run_lmul("eval " + (d / "run") + " " + (d / "run2") + " --dump-batches " + (d / "b.safetensors"));
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("--dump-batches takes one target") != std::string::npos);
  }

  TEST_CASE("lmul eval refuses a shape override and an unknown arithmetic with one line") {
    TempDir d;
    tiny_run(d);
    auto r = run_lmul("eval " + (d / "run") + " --set n_embd=16");
    CHECK(r.exit_code == 2);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    r = run_lmul("eval " + (d / "run") + " --set arith.linear=nosuch");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("unknown format 'nosuch'") != std::string::npos);
  }

  TEST_CASE("lmul export writes F32 weights without optimizer state or lm_head, in state_dict names") {
    TempDir d;
    tiny_run(d);
    auto r = run_lmul("export " + (d / "run") + " --out " + (d / "w.safetensors"));
    REQUIRE(r.exit_code == 0);
    auto f = SafetensorsFile::load(d / "w.safetensors");
    auto ck = SafetensorsFile::load(d / "run/ckpt/latest.safetensors");
    CHECK(f.metadata().at("format") == train::kExportFormat);
    CHECK(!f.has("lm_head.weight"));
    size_t n = 0;
    for (const auto& [name, e] : f.entries()) {
      CHECK(name.rfind("optim.", 0) == std::string::npos);
      CHECK(e.dtype == "F32");
      CHECK(f.f32(name) == ck.f32(name));
      ++n;
    }
    CHECK(n == 2 + 2 * 12 + 2);  // wte wpe, 12 per block with biases, ln_f weight + bias
    CHECK(run_lmul("inspect " + (d / "w.safetensors")).exit_code == 0);
  }

  TEST_CASE("lmul export --format stores 2-D weights as codes + scale, smaller, decoding near the weights") {
    TempDir d;
    tiny_run(d);
    auto ck = SafetensorsFile::load(d / "run/ckpt/latest.safetensors");
    run_lmul("export " + (d / "run") + " --out " + (d / "f32.safetensors"));
    const auto f32_size = std::filesystem::file_size(d / "f32.safetensors");
    for (auto [spec, ratio, tol] :
         {std::tuple{"fp8:e4m3", 2.5, 0.07}, std::tuple{"fp8:e5m2", 2.5, 0.13}, std::tuple{"int:b=8", 2.5, 0.0},
          std::tuple{"int:b=4", 4.0, 0.0}, std::tuple{"pot:b=4", 4.0, -1.0}, std::tuple{"ternary", 5.0, -1.0}}) {
      CAPTURE(spec);
      const std::string out = d / "q.safetensors";
      auto r = run_lmul("export " + (d / "run") + " --out " + out + " --format " + spec);
      REQUIRE(r.exit_code == 0);
      CHECK(static_cast<double>(f32_size) / static_cast<double>(std::filesystem::file_size(out)) > ratio);
      auto f = SafetensorsFile::load(out);
      const auto codec = arith::make_export_codec(spec);
      const auto& fmt = dynamic_cast<const arith::ScaledCodec&>(*codec);
      CHECK(f.metadata().at("quant") == fmt.spec());
      const auto w = ck.f32("transformer.h.1.mlp.c_fc.weight");
      const auto codes = fmt.codes(f.bytes("transformer.h.1.mlp.c_fc.weight"), w.size());
      const float scale = f.f32("transformer.h.1.mlp.c_fc.weight.scale")[0];
      CHECK(f.entry("transformer.h.1.mlp.c_fc.bias").dtype == "F32");
      CHECK(f.entry("transformer.ln_f.weight").dtype == "F32");
      double max_err = 0;
      for (size_t i = 0; i < w.size(); ++i) {
        const double v = fmt.decode(codes[i]) * scale;
        // fp8: relative error ≤ 2^−(m+1) above the subnormals; int: ≤ scale/2
        const double bound = tol > 0 ? tol * std::fabs(w[i]) + scale * 0.002 : tol == 0 ? scale * 0.5 : 1e30;
        CHECK(std::fabs(v - w[i]) <= bound + 1e-7);
        max_err = std::max(max_err, std::fabs(v - w[i]));
      }
      MESSAGE(std::string(spec), ": ", std::filesystem::file_size(out), " bytes (F32 ", f32_size,
              "), max |decoded − w| on c_fc ", max_err);
    }
  }
}

TEST_SUITE("ckpt") {
  TEST_CASE("lmul eval of an export: F32 equals the checkpoint's loss bit for bit, packed weights are decoded") {
    TempDir d;
    tiny_run(d);
    auto loss = [&](const std::string& target) {
      auto r = run_lmul("eval " + target + " --json --iters 2");
      REQUIRE(r.exit_code == 0);
      return nlohmann::json::parse(r.output)["loss"].get<double>();
    };
    const double ck = loss(d / "run");
    REQUIRE(run_lmul("export " + (d / "run") + " --out " + (d / "f32.safetensors")).exit_code == 0);
    CHECK(std::bit_cast<uint64_t>(loss(d / "f32.safetensors")) == std::bit_cast<uint64_t>(ck));
    REQUIRE(run_lmul("export " + (d / "run") + " --out " + (d / "t.safetensors") + " --format ternary").exit_code == 0);
    const double t = loss(d / "t.safetensors");
    CHECK(std::isfinite(t));
    CHECK(t != ck);
    std::string bad = read_file(d / "t.safetensors");
    bad[bad.size() - 1] = static_cast<char>(bad[bad.size() - 1] ^ 1);
    write_file(d / "t.safetensors", bad);
    auto r = run_lmul("eval " + (d / "t.safetensors"));
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("checksum mismatch") != std::string::npos);
  }
}

TEST_SUITE("ckpt") {
  TEST_CASE(
      "lmul export --format dgq: codes, zero points, int8 group and fp32 channel scales, decoding to dgq's weights") {
    TempDir d;
    tiny_run(d);
    auto ck = SafetensorsFile::load(d / "run/ckpt/latest.safetensors");
    REQUIRE(run_lmul("export " + (d / "run") + " --out " + (d / "f32.safetensors")).exit_code == 0);
    const std::string out = d / "dgq.safetensors";
    auto r = run_lmul("export " + (d / "run") + " --out " + out + " --format dgq:g=16");
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("dgq:g=16") != std::string::npos);
    CHECK(static_cast<double>(std::filesystem::file_size(d / "f32.safetensors")) /
              static_cast<double>(std::filesystem::file_size(out)) >
          3.0);
    auto f = SafetensorsFile::load(out);
    CHECK(f.metadata().at("quant") == "dgq:g=16");
    const auto quant = nlohmann::json::parse(f.metadata().at("quant_tensors"));
    int packed = 0;
    for (const auto& [name, q] : quant.items()) {
      CAPTURE(name);
      ++packed;
      CHECK(q["format"] == "dgq:g=16");
      const auto shape = q["shape"].get<Shape>();
      REQUIRE(shape.size() == 2);
      CHECK(f.entry(name).dtype == "U8");
      CHECK(f.entry(name + ".zeros").dtype == "U8");
      CHECK(f.entry(name + ".group_scale").shape == Shape{shape[0], shape[1] / 16});
      CHECK(f.entry(name + ".channel_scale").shape == Shape{shape[0]});
      // Decoded from the file, bit for bit the weights the dgq arithmetic multiplies.
      const auto w = ck.f32(name);
      std::vector<float> ref(w.size()), got(w.size());
      REQUIRE(arith::make_multiplier("dgq:g=16")
                  ->quantize(arith::Role::weight, w.data(), shape[0], shape[1], shape[1], ref.data()));
      arith::make_export_codec("dgq:g=16")
          ->load([&](std::string_view suffix, std::string_view,
                     std::vector<int64_t>) { return f.bytes(name + std::string(suffix)); },
                 shape[0], shape[1], got.data());
      CHECK(std::memcmp(got.data(), ref.data(), got.size() * sizeof(float)) == 0);
    }
    CHECK(packed == 2 + 2 * 4);  // wte, wpe, 4 Linear weights per block
    CHECK(f.entry("transformer.h.0.attn.c_attn.bias").dtype == "F32");
    r = run_lmul("eval " + out + " --iters 2");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("weights decoded from dgq:g=16") != std::string::npos);
    r = run_lmul("sample " + out + " --max-new-tokens 3");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("embedding=exact, weights decoded from dgq:g=16") != std::string::npos);
    // A group size that does not divide a weight's input width (n_embd = 32): one line naming both.
    r = run_lmul("export " + (d / "run") + " --out " + (d / "x.safetensors") + " --format dgq:g=64");
    CHECK(r.exit_code == 2);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK(r.output.find("weight 'transformer.wte.weight' (") != std::string::npos);
    CHECK(r.output.find("g=64 does not divide the input width 32") != std::string::npos);
  }

  TEST_CASE("lmul eval of a dgq export whose stored values leave their ranges: one line naming tensor and value") {
    TempDir d;
    tiny_run(d);
    const std::string out = d / "dgq.safetensors";
    REQUIRE(run_lmul("export " + (d / "run") + " --out " + out + " --format dgq:g=16").exit_code == 0);
    auto f = SafetensorsFile::load(out);
    const std::string w = "transformer.h.1.mlp.c_proj.weight";
    auto reseal = [&](const std::string& tensor, auto&& edit, const std::string& path) {
      std::vector<std::vector<uint8_t>> keep;
      std::vector<SafetensorsOut> t;
      for (const auto& [name, e] : f.entries()) {
        const auto b = f.bytes(name);
        keep.emplace_back(b.begin(), b.end());
        if (name == tensor) edit(keep.back());
        t.push_back({name, e.dtype, e.shape, keep.back()});
      }
      auto m = f.metadata();
      m["checksum"] = train::checkpoint_checksum(t, m);
      save_safetensors(path, t, m);
    };
    reseal(
        w + ".group_scale", [](std::vector<uint8_t>& b) { b[3] = 0x80; }, d / "s2.safetensors");
    auto r = run_lmul("eval " + (d / "s2.safetensors"));
    CHECK(r.exit_code == 2);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK(r.output.find("tensor '" + w + "': dgq:g=16: group scale -128 (row 0, group 3) is outside 1..127") !=
          std::string::npos);
    reseal(
        w + ".channel_scale", [](std::vector<uint8_t>& b) { b[3] = 0x7f, b[2] = 0xc0; }, d / "s1.safetensors");
    r = run_lmul("eval " + (d / "s1.safetensors"));
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("channel scale nan (row 0) is not a finite float >= 0") != std::string::npos);
  }
}
