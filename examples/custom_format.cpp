// A number format of your own, trained end to end: register it at run time, name it in the
// config like any built-in format, train the tiny GPT a few steps, print the loss.
//
//   build/examples/lmul_example_custom_format DATA_DIR [OUT_DIR]
//
// DATA_DIR is a prepared data directory (`lmul prepare char --input ... --out DATA_DIR`).
// The format, "chop:m=M", keeps the M leading mantissa bits of both operands (rounding toward
// zero, as a cheap multiplier that drops its low partial products would) and sums in fp32.
#include <bit>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "core/arith/arith.h"
#include "core/arith/spec.h"
#include "train/config.h"
#include "train/trainer.h"

namespace {

using namespace lmul;

float chop(float x, int m) {  // keep m mantissa bits: clear the other 23 − m
  const uint32_t mask = ~((uint32_t{1} << (23 - m)) - 1);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & mask);
}

class Chop final : public arith::Multiplier {
 public:
  explicit Chop(int m) : m_(m) {}
  std::string spec() const override { return "chop:m=" + std::to_string(m_); }
  // Weights, activations and gradients alike: every operand of every GEMM of the site.
  bool quantize(arith::Role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = chop(x[i * ld + j], m_);
    return true;
  }
  // Products of chopped operands are exact in fp32 for m ≤ 11: the fp32 GEMM forms them as they are.
  void gemm(const arith::Gemm& g) override { arith::sgemm(g); }

 private:
  int m_;
};

std::unique_ptr<arith::Multiplier> make_chop(std::string_view options, uint64_t /*seed*/) {
  arith::SpecOptions o(options.empty() ? "chop" : "chop:" + std::string(options), options);
  const int m = static_cast<int>(o.integer("m", 3, 1, 11));
  o.finish();  // an unknown option is an error naming the spec
  return std::make_unique<Chop>(m);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [OUT_DIR]\n", argv[0]);
    return 2;
  }
  arith::FormatInfo chop;
  chop.name = "chop";
  chop.help = "chop:m=M keep M mantissa bits of both operands (toward zero), M 1..11";
  chop.example = "chop:m=3";
  chop.make = &make_chop;
  arith::register_format(chop);

  train::TrainConfig c;  // nanoGPT's defaults; a tiny model for a quick run
  c.dataset = argv[1];
  c.out_dir = argc > 2 ? argv[2] : "runs/example_chop";
  c.n_layer = 2, c.n_head = 2, c.n_embd = 32, c.block_size = 32, c.batch_size = 8;
  c.max_iters = 20, c.eval_interval = 10, c.eval_iters = 2, c.warmup_iters = 2, c.lr_decay_iters = 20;
  c.learning_rate = 3e-3, c.threads = 1, c.bias = true;
  c.arith.linear = "chop:m=3";  // the Linear layers multiply in the new format
  c.arith.head = "chop:m=5";
  train::validate(c);  // the spec strings parse through the registry, as a TOML config's would

  const train::TrainResult r = train::train(c, train::TrainOptions(/*overwrite=*/true, /*quiet=*/true));
  std::printf("chop:m=3 linear, chop:m=5 head: %lld steps, val loss %.4f, train loss %.4f\n",
              static_cast<long long>(r.iters), r.final_val_loss, r.final_train_loss);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
