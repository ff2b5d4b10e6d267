// The training checkpoint reader (ckpt/*.safetensors): see load_run_input.h. Seeded with fuzz/corpus/checkpoint/.
#include "fuzz/load_run_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lmul::fuzz::load_run_input(data, size);
  return 0;
}
