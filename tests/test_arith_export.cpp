// Export codecs (lmul export --format): OCP fp8 bytes, ternary 2-bit codes, pot nibbles, B-bit
// integers, DGQ's u4 codes + zero points + int8 group scales + fp32 channel scales — pack then unpack
// gives the codes back, and the decoded values are the quantised ones.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "arith_test_util.h"
#include "core/arith/arith.h"
#include "core/arith/dgq_math.h"
#include "core/arith/export_codec.h"
#include "core/arith/minifloat.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;

TEST_SUITE("arith.export") {
  TEST_CASE("every non-NaN e4m3 code decodes to a float that encodes back to it") {
    const MiniFloat f = MiniFloat::e4m3();
    int n = 0;
    for (int c = 0; c < 256; ++c) {
      const float v = ofp8_decode(f, static_cast<uint8_t>(c));
      if (std::isnan(v)) continue;
      CHECK(ofp8_encode(f, v) == c);
      ++n;
    }
    CHECK(n == 254);
    CHECK(ofp8_decode(f, 0x7e) == 448.0f);
    CHECK(ofp8_decode(f, 0x01) == std::ldexp(1.0f, -9));
  }

  TEST_CASE("every finite e5m2 code decodes to a float that encodes back to it") {
    const MiniFloat f = MiniFloat::e5m2();
    int n = 0;
    for (int c = 0; c < 256; ++c) {
      const float v = ofp8_decode(f, static_cast<uint8_t>(c));
      if (!std::isfinite(v)) continue;
      CHECK(ofp8_encode(f, v) == c);
      ++n;
    }
    CHECK(n == 248);
    CHECK(ofp8_decode(f, 0x7b) == 57344.0f);
    CHECK(std::isinf(ofp8_decode(f, 0x7c)));
  }

  TEST_CASE("fp8 encoding saturates, rounds to nearest even and keeps NaN") {
    const MiniFloat e4m3 = MiniFloat::e4m3(), e5m2 = MiniFloat::e5m2();
    CHECK(ofp8_encode(e4m3, 464.0f) == 0x7e);
    CHECK(ofp8_encode(e4m3, INFINITY) == 0x7e);
    CHECK(ofp8_encode(e4m3, -1e9f) == 0xfe);
    CHECK(ofp8_encode(e4m3, NAN) == 0x7f);
    CHECK(ofp8_encode(e4m3, 1.0625f) == ofp8_encode(e4m3, 1.0f));   // halfway 1 | 1.125 → even mantissa 0
    CHECK(ofp8_encode(e4m3, 1.1875f) == ofp8_encode(e4m3, 1.25f));  // halfway 1.125 | 1.25 → even mantissa 2
    CHECK(ofp8_encode(e4m3, -0.0f) == 0x80);
    CHECK(ofp8_encode(e5m2, INFINITY) == 0x7b);
    CHECK(ofp8_encode(e5m2, 1.125f) == ofp8_encode(e5m2, 1.0f));  // halfway 1 | 1.25 → even
  }

  TEST_CASE("the fp8 export code of a value decodes to the arithmetic's rounding of it") {
    // One encoder: the byte is round_nearest_ref's value written as a code (a nearest-code search,
    // the export's encoder before, agreed with it on every fp32 of the rounding range).
    for (const MiniFloat& f : {MiniFloat::e4m3(), MiniFloat::e5m2()}) {
      CAPTURE(f.max_finite);
      int differ = 0;
      for (float v : test::awkward_values(20000, 11))
        differ += !test::same_bits(ofp8_decode(f, ofp8_encode(f, v)), round_nearest_ref(f, v));
      CHECK(differ == 0);
    }
  }

  TEST_CASE("pack_bits then unpack_bits gives the codes back for 1..8 bits and tail-hitting sizes") {
    uint32_t s = 12345;
    for (int bits = 1; bits <= 8; ++bits) {
      for (size_t n : {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63}) {
        std::vector<uint8_t> codes(n);
        for (auto& c : codes) c = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24) & ((1u << bits) - 1);
        auto packed = pack_bits(codes, bits);
        CHECK(packed.size() == (n * static_cast<size_t>(bits) + 7) / 8);
        CHECK(unpack_bits(packed, bits, n) == codes);
      }
    }
  }

  TEST_CASE("ternary, pot and int codes survive their packing and decode to the quantised values") {
    const std::vector<float> w = {0.5f, -0.25f, 0.0f, 0.02f, -1.0f, 0.125f, 0.75f, -0.0625f, 0.3f};
    for (const char* spec :
         {"ternary", "pot:b=4", "pot:b=3", "int:b=4", "int:b=3", "int:b=8", "fp8:e4m3", "fp8:e5m2"}) {
      CAPTURE(spec);
      const auto f = test::scaled_codec(spec);
      const auto q = f->pack(w, 3, 3);
      const auto codes = f->codes(q.bytes, w.size());
      for (size_t i = 0; i < w.size(); ++i) {
        CHECK(codes[i] == f->encode(w[i] / q.scale));
        const float v = f->decode(codes[i]) * q.scale;
        CHECK(std::fabs(v - w[i]) <= std::fabs(w[i]) * 0.5f + q.scale * 0.5f + 1e-7f);  // nearest level
      }
    }
    auto pot = test::scaled_codec("pot:b=4");
    auto q = pot->pack(w, 1, 9);
    auto codes = pot->codes(q.bytes, 9);
    CHECK(q.scale == 1.0f);
    CHECK(pot->decode(codes[0]) == 0.5f);
    CHECK(pot->decode(codes[1]) == -0.25f);
    CHECK(pot->decode(codes[2]) == 0.0f);
    CHECK(pot->decode(codes[7]) == -0.0625f);
    auto ternary = test::scaled_codec("ternary");
    auto tern = ternary->pack(w, 1, 9);
    CHECK(tern.scale == doctest::Approx((0.5 + 0.25 + 0.02 + 1 + 0.125 + 0.75 + 0.0625 + 0.3) / 9));
    CHECK(ternary->pack(std::vector<float>(4, 0.0f), 1, 4).scale == 1e-5f);
    CHECK(ternary->codes(tern.bytes, 9)[4] == 2);  // −1
    CHECK(ternary->codes(tern.bytes, 9)[2] == 0);
    CHECK(tern.bytes.size() == 3);  // 9 values × 2 bits
    auto int4 = test::scaled_codec("int:b=4");
    auto i4 = int4->pack(w, 1, 9);
    CHECK(int4->decode(int4->codes(i4.bytes, 9)[4]) == -7.0f);
    CHECK(i4.bytes.size() == 5);
  }

  TEST_CASE("fp8 and int:b=8 store one typed byte per weight with its shape; the rest packed U8") {
    const std::vector<float> w(6 * 7, 0.25f);
    CHECK(test::scaled_codec("fp8:e4m3")->pack(w, 6, 7).dtype == "F8_E4M3");
    CHECK(test::scaled_codec("fp8:e5m2")->pack(w, 6, 7).shape == std::vector<int64_t>{6, 7});
    CHECK(test::scaled_codec("int:b=8")->pack(w, 6, 7).dtype == "I8");
    const auto p = test::scaled_codec("pot:b=3")->pack(w, 6, 7);
    CHECK(p.dtype == "U8");
    CHECK(p.shape == std::vector<int64_t>{21});  // 42 nibbles
    CHECK(test::scaled_codec("int:b=3")->packed_size(42) == 16);
  }

  TEST_CASE("ternary and int:b=B exports decode to exactly the weights of the arithmetic layer's formats") {
    uint32_t st = 777;
    std::vector<float> w(24 * 40);
    for (auto& x : w) x = (static_cast<float>((st = st * 1664525u + 1013904223u) >> 8) * 0x1.0p-24f - 0.5f) * 0.1f;
    w[5] = 0.2f;  // an outlier sets the int scale
    for (const char* spec : {"ternary", "int:b=8", "int:b=4", "int:b=2"}) {
      CAPTURE(spec);
      const auto f = test::scaled_codec(spec);
      CHECK(f->decodes_to_arithmetic());
      const auto q = f->pack(w, 24, 40);
      std::vector<float> ref(w.size()), got(w.size());
      REQUIRE(make_multiplier(spec)->quantize(Role::weight, w.data(), 24, 40, 40, ref.data()));
      f->unpack(q.bytes, w.size(), q.scale, got.data());
      int differ = 0;
      for (size_t i = 0; i < w.size(); ++i) differ += got[i] != ref[i];
      CHECK(differ == 0);
    }
  }

  TEST_CASE("export specs have canonical forms; bare fp8, pot and int take their defaults") {
    CHECK(make_export_codec("fp8")->spec() == "fp8:e4m3");
    CHECK(make_export_codec("fp8:e5m2")->spec() == "fp8:e5m2");
    CHECK(make_export_codec("pot")->spec() == "pot:b=4");
    CHECK(make_export_codec("int")->spec() == "int:b=8");
    CHECK(make_export_codec("ternary")->spec() == "ternary");
    CHECK(make_export_codec("dgq")->spec() == "dgq:g=128");
    CHECK(make_export_codec("dgq:g=32,pct=99")->spec() == "dgq:g=32");  // pct is the activations'
    CHECK(exportable_formats() == "fp8:e4m3|e5m2, pot:b=2..4, int:b=2..8, ternary, dgq:g=G");
  }

  TEST_CASE("an unknown export format or option is a one-line error naming the spec") {
    CHECK_THROWS_WITH_AS(make_export_codec("fp4"), doctest::Contains("unknown export format 'fp4'"), Error);
    CHECK_THROWS_AS(make_export_codec("int:b=12"), Error);
    CHECK_THROWS_AS(make_export_codec("fp8:e3m4"), Error);
    CHECK_THROWS_AS(make_export_codec("fp8:hybrid"), Error);
    CHECK_THROWS_AS(make_export_codec("ternary:act=fp32"), Error);
    CHECK_THROWS_WITH_AS(make_export_codec("dgq:g=0"), doctest::Contains("dgq:g=0"), Error);
    CHECK_THROWS_AS(make_export_codec("dgq:b=4"), Error);
    // A format of the arithmetic without a codec: the message lists what can be exported.
    CHECK_THROWS_WITH_AS(
        make_export_codec("lmul:m=4"),
        doctest::Contains("export spec 'lmul:m=4': no packed export for the format 'lmul' (exportable: fp8:e4m3|e5m2"),
        Error);
  }
}

namespace {
std::vector<float> dgq_weights(int64_t rows, int64_t cols) {
  uint32_t st = 4242;
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (auto& x : w) x = (static_cast<float>((st = st * 1664525u + 1013904223u) >> 8) * 0x1.0p-24f - 0.5f) * 0.1f;
  w[7] = 0.4f;                                                              // an outlier sets row 0's channel scale
  for (int64_t j = 0; j < 8; ++j) w[static_cast<size_t>(cols + j)] = 0.0f;  // row 1 starts with 8 zeros
  return w;
}
StoredTensor& part(std::vector<StoredTensor>& t, std::string_view suffix) {
  for (auto& s : t)
    if (s.suffix == suffix) return s;
  throw Error("no stored tensor '{}'", suffix);
}
}  // namespace

TEST_SUITE("arith.export") {
  TEST_CASE("a dgq export decodes to exactly the weights the arithmetic dgq:g=G multiplies") {
    const int64_t rows = 24, cols = 40;
    const auto w = dgq_weights(rows, cols);
    for (auto [spec, group] :
         {std::pair{"dgq:g=8", 8}, std::pair{"dgq:g=40", 40}, std::pair{"dgq:g=5", 5}, std::pair{"dgq:g=1", 1}}) {
      CAPTURE(spec);
      const auto codec = make_export_codec(spec);
      CHECK(codec->decodes_to_arithmetic());
      auto t = codec->store(w, rows, cols);
      std::vector<float> ref(w.size()), got(w.size());
      REQUIRE(make_multiplier(codec->spec())->quantize(Role::weight, w.data(), rows, cols, cols, ref.data()));
      codec->load(test::stored_lookup(t), rows, cols, got.data());
      int differ = 0;
      for (size_t i = 0; i < w.size(); ++i) differ += !test::same_bits(got[i], ref[i]);
      CHECK(differ == 0);
      // The stored form is DgqWeights, tensor by tensor.
      const DgqWeights q = dgq_quantize_weights(w.data(), rows, cols, cols, group);
      const int64_t ng = cols / q.group;
      CHECK(part(t, "").dtype == "U8");
      CHECK(part(t, "").bytes == pack_bits(q.u4, 4));
      CHECK(part(t, "").shape == std::vector<int64_t>{rows * cols / 2});
      CHECK(part(t, ".zeros").bytes == pack_bits(q.zp, 4));
      CHECK(part(t, ".zeros").shape == std::vector<int64_t>{(rows * ng + 1) / 2});
      CHECK(part(t, ".group_scale").dtype == "I8");
      CHECK(part(t, ".group_scale").shape == std::vector<int64_t>{rows, ng});
      CHECK(part(t, ".channel_scale").dtype == "F32");
      CHECK(part(t, ".channel_scale").shape == std::vector<int64_t>{rows});
      std::vector<float> s1(static_cast<size_t>(rows));
      std::memcpy(s1.data(), part(t, ".channel_scale").bytes.data(), s1.size() * sizeof(float));
      CHECK(s1 == q.s1);
      for (uint8_t b : part(t, ".group_scale").bytes) {
        CHECK(static_cast<int8_t>(b) >= 1);  // int8 group scales in 1..127
      }
    }
  }

  TEST_CASE("a dgq export is 4 bits a weight plus per-group and per-channel scales") {
    const auto t = make_export_codec("dgq:g=32")->store(std::vector<float>(64 * 128, 0.01f), 64, 128);
    size_t bytes = 0;
    for (const auto& s : t) bytes += s.bytes.size();
    CHECK(bytes == 64 * 128 / 2 + 64 * 4 / 2 + 64 * 4 + 64 * 4);  // codes, zero points, S2, s1
  }

  TEST_CASE("a dgq export whose group size does not divide the width is a one-line error naming both") {
    CHECK_THROWS_WITH_AS(make_export_codec("dgq:g=16")->store(std::vector<float>(3 * 24, 0.1f), 3, 24),
                         doctest::Contains("group size g=16 does not divide the input width 24"), Error);
  }

  TEST_CASE("loading a dgq export checks the ranges: group scales 1..127, channel scales, S2·(u − zp) in int8") {
    const int64_t rows = 4, cols = 16;
    const auto w = dgq_weights(rows, cols);
    const auto codec = make_export_codec("dgq:g=8");
    const auto good = codec->store(w, rows, cols);
    std::vector<float> out(w.size());
    auto load = [&](const std::vector<StoredTensor>& t) {
      codec->load(test::stored_lookup(t), rows, cols, out.data());
    };
    CHECK_NOTHROW(load(good));
    for (int8_t s2 : {int8_t{0}, int8_t{-3}, int8_t{-128}}) {
      auto t = good;
      part(t, ".group_scale").bytes[5] = static_cast<uint8_t>(s2);
      CHECK_THROWS_WITH_AS(load(t), doctest::Contains("(row 2, group 1) is outside 1..127"), Error);
    }
    for (float s1 : {NAN, INFINITY, -0.5f}) {
      auto t = good;
      std::memcpy(part(t, ".channel_scale").bytes.data() + 4, &s1, 4);
      CHECK_THROWS_WITH_AS(load(t), doctest::Contains("(row 1) is not a finite float >= 0"), Error);
    }
    {  // S2 = 127 with a code one step from its zero point: 127 is fine, 254 is not
      auto t = good;
      auto& s2 = part(t, ".group_scale").bytes;
      auto& zeros = part(t, ".zeros").bytes;
      auto& codes = part(t, "").bytes;
      s2[0] = 127;
      zeros[0] = static_cast<uint8_t>((zeros[0] & 0xf0) | 7);  // row 0, group 0: zp = 7
      for (int k = 1; k < 4; ++k) codes[k] = 0x77;             // weights (0, 2..7): u = zp
      codes[0] = 0x88;                                         // weights (0, 0) and (0, 1): u = 8
      CHECK_NOTHROW(load(t));
      codes[0] = 0x89;  // (0, 0): u = 9
      CHECK_THROWS_WITH_AS(load(t), doctest::Contains("weight (row 0, column 0): S2·(u − zp) = 254 is outside"), Error);
    }
    auto t = good;
    t.pop_back();  // no channel scales: the reader's lookup says so
    CHECK_THROWS_WITH_AS(load(t), doctest::Contains("no stored tensor '.channel_scale'"), Error);
    t = good;
    CHECK_THROWS_AS(codec->load(test::stored_lookup(t), rows, cols + 8, out.data()), Error);  // shapes differ
  }
}
