// What does not need MPI: launch detection, the run-identity hash, the error mapping; and, in a
// build without MPI, the refusal of a multi-process launch.
#include "train/distributed.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/safetensors.h"
#include "train/trainer.h"

namespace lmul::train {

namespace fs = std::filesystem;

int launched_processes() {
  // Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; MPICH's and Slurm's PMI launchers PMI_SIZE.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(var)) return std::max(1, std::atoi(v));
  return 1;
}

uint64_t run_identity_hash(const std::string& resolved_config, const std::string& dataset) {
  auto bytes = [](const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  uint64_t h = fnv1a64(bytes(resolved_config));
  std::error_code ec;
  if (!fs::is_directory(dataset, ec)) return h;  // a generated task: the config says it all
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dataset, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  constexpr std::streamsize kMiB = 1 << 20;
  std::string buf;
  for (const auto& f : files) {
    const auto size = static_cast<std::streamsize>(fs::file_size(f, ec));
    h = fnv1a64(bytes(fmt::format("{} {}\n", f.filename().string(), size)), h);
    std::ifstream in(f, std::ios::binary);
    for (std::streamsize at : {std::streamsize{0}, std::max<std::streamsize>(0, size - kMiB)}) {
      buf.resize(static_cast<size_t>(std::min(kMiB, size - at)));
      in.seekg(at);
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      h = fnv1a64(bytes(buf), h);
    }
  }
  return h;
}

int exit_code_of(const std::exception& e) {
  if (dynamic_cast<const Error*>(&e)) return 2;
  if (dynamic_cast<const TrainingDiverged*>(&e)) return 3;
  return 1;
}

std::string error_line(const std::exception& e) {
  return fmt::format("lmul: {}: {}", dynamic_cast<const Error*>(&e) ? "error" : "failed", e.what());
}

#ifndef LMUL_HAVE_MPI
std::unique_ptr<DataParallel> start_data_parallel() {
  if (const int n = launched_processes(); n > 1)
    throw Error(
        "mpirun started {} processes, but this lmul was built without MPI: install Open MPI "
        "(scripts/install-deps.sh: openmpi-bin, libopenmpi-dev) and rebuild, or run without mpirun",
        n);
  return nullptr;
}
#endif

}  // namespace lmul::train
