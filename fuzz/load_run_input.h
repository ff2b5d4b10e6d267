// The harness of the checkpoint and export targets (one each, seeded with their own files): the
// input is a safetensors file, read as `lmul inspect` (read_checkpoint_meta) and as every subcommand
// that loads a model (load_run) reads it. A mutated file almost never keeps a valid checksum, which
// would stop the fuzzer at the checksum test; so a file that parses as safetensors is also re-sealed
// (written again with its checksum made to hold) and loaded once more, reaching the config, the model
// it describes and the tensor copies that only a checksummed file gets to.
#pragma once
#include <optional>

#include "core/safetensors.h"
#include "fuzz/fuzz_input.h"
#include "train/checkpoint.h"
#include "train/run.h"

namespace lmul::fuzz {

inline void load_run_input(const uint8_t* data, size_t size) {
  const std::string path = write_file("model.safetensors", {reinterpret_cast<const char*>(data), size});
  expect_clean([&] { train::read_checkpoint_meta(path); });
  expect_clean([&] { train::load_run(path); });

  std::optional<SafetensorsFile> file;
  expect_clean([&] { file = SafetensorsFile::load(path); });
  if (!file) return;
  std::vector<SafetensorsOut> tensors;
  for (const auto& [name, e] : file->entries()) tensors.push_back({name, e.dtype, e.shape, file->bytes(name)});
  auto metadata = file->metadata();
  metadata["checksum"] = train::checkpoint_checksum(tensors, metadata);
  const std::string sealed = scratch() / "sealed.safetensors";
  save_safetensors(sealed, tensors, metadata);
  expect_clean([&] { train::load_run(sealed); });
  expect_clean([&] { train::load_run(sealed, {.which = "best", .overrides = {"arith.linear=lmul:m=3"}}); });
}

}  // namespace lmul::fuzz
