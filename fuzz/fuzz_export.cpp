// The `lmul export` reader (inference weights, packed formats): see load_run_input.h. Seeded with fuzz/corpus/export/.
#include "fuzz/load_run_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lmul::fuzz::load_run_input(data, size);
  return 0;
}
