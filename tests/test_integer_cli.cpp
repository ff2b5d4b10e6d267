// `lmul numerics intop`: the I/O format (integer rows in, rows out, a final scale line) and its
// one-line errors.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "core/error.h"
#include "core/integer/intop.h"
#include "tests/test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;

namespace {

RunResult intop(const std::string& input, const std::string& args) {
  static TempDir dir;
  const std::string in = dir / "stdin.txt";
  write_file(in, input);
  return run_lmul("numerics intop " + args, in);
}

}  // namespace

TEST_SUITE("integer.cli") {
  TEST_CASE("numerics intop shiftmax: rows, then the constant output scale") {
    const auto r = intop("0 -5 -10 3 3 -128\n\n0 -5 -10 3 3 -128\n", "shiftmax --scale 0.1");
    CHECK(r.exit_code == 0);
    CHECK(r.output == "28 17 9 36 36 0\n28 17 9 36 36 0\nscale 0.0078125\n");
    const auto r16 = intop("0 -5 -10 3 3 -128\n", "shiftmax --scale 0.1 --bits 16");
    CHECK(r16.output == "7384 4384 2538 9230 9230 0\nscale 3.0517578e-05\n");
  }

  TEST_CASE("numerics intop shiftmax --causal: line i keeps columns j <= i") {
    const auto r = intop("4 100 100\n4 4 100\n4 4 4\n", "shiftmax --scale 0.1 --causal");
    CHECK(r.exit_code == 0);
    CHECK(r.output == "127 0 0\n63 63 0\n42 42 42\nscale 0.0078125\n");
  }

  TEST_CASE("numerics intop shiftgelu: the spec's vector and scale s/2^(b-1)") {
    const auto r = intop("-128 -40 -7 0 7 40 127\n", "shiftgelu --scale 0.05");
    CHECK(r.exit_code == 0);
    CHECK(r.output == "0 -160 -322 0 581 4920 16002\nscale 0.000390625\n");
  }

  TEST_CASE("numerics intop ilayernorm: per-channel scales, weight and bias") {
    const auto r = intop("1000 -1000\n", "ilayernorm");
    CHECK(r.exit_code == 0);
    CHECK(r.output == "759364500 -759364500\nscale 1.317089e-09 1.317089e-09\n");
    const auto w = intop("1 2 3 5\n", "ilayernorm --weight 1,2,-0.5,1 --bias 0,1,0.25,0");
    CHECK(w.output ==
          "-33554431 251658240 -268435456 33554431\nscale 1.8626451e-09 3.7252903e-09 -9.313226e-10 1.8626451e-09\n");
  }

  TEST_CASE("numerics intop requant: 'm e' first, ties to even, clamp only with --bits") {
    const auto r = intop("1000 -1000\n", "requant --multiplier 0.0123");
    CHECK(r.exit_code == 0);
    CHECK(r.output == "1690499128 37\n12 -12\nscale 81.30081\n");
    const auto t = intop("3 5 -3 300\n", "requant --multiplier 0.5 --scale 2");
    CHECK(t.output == "1073741824 31\n2 2 -2 150\nscale 4\n");
    const auto c = intop("3 5 -3 300\n", "requant --multiplier 0.5 --bits 8");
    CHECK(c.output == "1073741824 31\n2 2 -2 127\nscale 2\n");
  }

  TEST_CASE("numerics intop: bad input is a one-line error, exit 2") {
    const auto cases = {
        std::pair{intop("1 2 x\n", "shiftmax --scale 0.1"), "stdin line 1: 'x' is not an integer"},
        std::pair{intop("1 2.5\n", "shiftmax --scale 0.1"), "'2.5' is not an integer"},
        std::pair{intop("99999999999\n", "requant --multiplier 1"), "outside the int32 range"},
        std::pair{intop("1\n", "shiftmax"), "--scale S (the input scale) is required"},
        std::pair{intop("1\n", "shiftmax --scale 0"), "must be finite and positive"},
        std::pair{intop("1\n", "shiftmax --scale 0.1 --bits 17"), "--bits 17 is out of range"},
        std::pair{intop("1 1 1 1 1 1 1\n", "shiftmax --scale 0.0001"), "rows of 7 with x0 = -10000"},
        std::pair{intop("1\n", "shiftgelu --scale 0.001"), "coarser input scale"},
        std::pair{intop("1 2\n", "ilayernorm --weight 1,2,3"), "--weight has 3 values for 2 channels"},
        std::pair{intop("1 2\n", "ilayernorm --weight 1,0"), "weight nonzero"},
        std::pair{intop("1 2\n1\n", "ilayernorm"), "stdin line 2 has 1 values"},
        std::pair{intop("1 2\n", "ilayernorm --bias 1,y"), "'y' is not a number"},
        std::pair{intop("1 8388609\n", "ilayernorm"), "8388609 is outside ±2^23"},
        std::pair{intop("1\n", "requant"), "--multiplier M is required"},
        std::pair{intop("1\n", "requant --multiplier 0"), "multiplier 0 is out of range"},
        std::pair{intop("1\n", "requant --multiplier 1 --causal"), "--causal does not apply"},
        std::pair{intop("1\n", "softmax --scale 1"), "unknown op 'softmax'"},
    };
    for (const auto& [r, want] : cases) {
      INFO(r.output);
      CHECK(r.exit_code == 2);
      CHECK(r.output.find(want) != std::string::npos);
      CHECK(r.output.rfind("lmul: error: ", 0) == 0);
      CHECK(r.output.find('\n') == r.output.size() - 1);
    }
  }

  TEST_CASE("numerics --help and numerics intop --help document the formulas") {
    for (const char* cmd : {"numerics --help", "numerics intop --help"}) {
      const auto r = run_lmul(cmd);
      CHECK(r.exit_code == 0);
      for (const char* s : {"exp = ((r - 2*x0) << (15-q)) >> 1", "10 times", "round_half_away(mant*2^31)",
                            "line i (from 0) keeps columns j <= i"})
        CHECK(r.output.find(s) != std::string::npos);
    }
  }

  TEST_CASE("read_integer_rows: blanks skipped, '+' accepted") {
    std::istringstream in("1 +2\n\n-3\n");
    const auto rows = integer::read_integer_rows(in, "stdin");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0][1] == 2);
    CHECK(rows[1][0] == -3);
  }
}
