// Gradient accumulation as the trainer does it (k forward/backward passes of B rows, each seeded
// with 1/k, gradients adding up) against one forward/backward of the k·B rows concatenated: the
// same mean loss over the same tokens, so the same gradient for every parameter, up to fp32
// rounding.
//
// Tolerance: per parameter tensor, max |g_micro − g_batch| ≤ 1e-5 · max |g_batch|. The two runs
// compute the same per-token terms and differ only in how they are summed: a weight gradient is a
// sum over the k·B·T = 48 token rows, in one GEMM for the batch and in k GEMMs of 16 rows plus k
// additions for the micro-batches; the loss's 1/(k·B·T) is formed as (1/k)·(1/(B·T)), one more
// rounding. Each order errs by at most γ₄₈ ≈ 48·2⁻²⁴ ≈ 2.9e-6 relative to the sum of magnitudes,
// and the difference passes through the model's two blocks without growing by more than the
// layers' own gains (order 1 at this init); 1e-5 is ~3× that bound and still 4 orders of magnitude
// under what a mistake costs: a missing or doubled micro-batch, or a seed of 1 instead of 1/k,
// moves gradients by ~1/k = 33%. The measured worst is printed.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "core/autograd.h"
#include "nn/gpt.h"
#include "worst_error.h"

using namespace lmul;
using lmul::testing::worse;

namespace {

nn::GPTConfig tiny_gpt() {
  nn::GPTConfig c;
  c.block_size = 8;
  c.vocab_size = 13;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.dropout = 0.0f;  // dropout draws depend on how the batch is split
  c.bias = true;
  return c;
}

// Both models start from the same weights.
void init(nn::GPT& model) {
  Rng rng(1337);
  model.init(rng);
}

}  // namespace

TEST_SUITE("train") {
  TEST_CASE("k micro-batches seeded 1/k give the gradients of one batch of k·B rows") {
    const nn::GPTConfig c = tiny_gpt();
    const int64_t k = 3, B = 2, T = c.block_size, rows = B * T;
    Rng data(41);
    std::vector<int32_t> idx(static_cast<size_t>(k * rows)), targets(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) {
      idx[i] = static_cast<int32_t>(data.uniform_int(static_cast<uint64_t>(c.vocab_size)));
      targets[i] = static_cast<int32_t>(data.uniform_int(static_cast<uint64_t>(c.vocab_size)));
    }
    nn::GPT micro(c, {}, 0), batch(c, {}, 0);
    init(micro);
    init(batch);
    Rng rng(0);  // drives dropout only, which is off

    double micro_loss = 0;
    for (int64_t m = 0; m < k; ++m) {
      const size_t off = static_cast<size_t>(m * rows), n = static_cast<size_t>(rows);
      auto out = micro.forward(std::span(idx).subspan(off, n), B, T, std::span(targets).subspan(off, n), rng);
      micro_loss += out.loss.item() / static_cast<double>(k);
      backward(out.loss, 1.0f / static_cast<float>(k));
    }
    auto out = batch.forward(idx, k * B, T, targets, rng);
    backward(out.loss);
    MESSAGE(fmt::format("mean micro-batch loss {:.7f}, batch loss {:.7f}", micro_loss, out.loss.item()));
    CHECK(micro_loss == doctest::Approx(out.loss.item()).epsilon(1e-6));

    double worst = 0;
    for (size_t p = 0; p < batch.parameters().size(); ++p) {
      const auto &a = micro.parameters()[p], &b = batch.parameters()[p];
      CAPTURE(b.name);
      REQUIRE(a.value.has_grad());
      REQUIRE(b.value.has_grad());
      double diff = 0, scale = 0;
      for (int64_t e = 0; e < b.value.numel(); ++e) {
        diff = worse(diff, static_cast<double>(std::abs(a.value.grad()[e] - b.value.grad()[e])));
        scale = std::max(scale, static_cast<double>(std::abs(b.value.grad()[e])));
      }
      REQUIRE(scale > 0);
      CHECK(diff <= 1e-5 * scale);
      worst = worse(worst, diff / scale);
    }
    MESSAGE(fmt::format("{} parameters: max |g_micro − g_batch| / max |g_batch| = {:.2e}", batch.parameters().size(),
                        worst));
  }
}
