// Which process trains which run of a sweep. One process (plain `lmul sweep`): every run, in
// order. Under `mpirun -np N lmul sweep`: the ranks take runs in order, each the next one no rank
// has taken yet (a rank that finishes a run takes the next), so a slow run does not hold up the
// rest. A run is taken by creating the directory SWEEP_DIR/.mpi-claims-TOKEN/INDEX: mkdir either
// creates it or fails with EEXIST, atomically, on a local disk and on NFS alike, so across machines
// too, as long as SWEEP_DIR is on a filesystem every rank shares (the runs' files must be anyway:
// rank 0 compares them). TOKEN is rank 0's, new at every launch, so claims of a killed sweep never
// block its resumption; rank 0 removes claims directories of earlier launches.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>

#include "train/distributed.h"

namespace lmul::apps::sweep {

class RunClaims {
 public:
  // Collective under mpirun (every rank constructs it at the same point): rank 0 makes the claims
  // directory, every rank then checks that it sees it (lmul::Error: SWEEP_DIR is not shared).
  RunClaims(const std::filesystem::path& sweep_dir, train::DataParallel* parallel);
  // Rank 0 removes the claims directory (call after every rank is done).
  ~RunClaims();
  RunClaims(const RunClaims&) = delete;
  RunClaims& operator=(const RunClaims&) = delete;

  // True when this process is to train run `index` (always, in one process).
  bool take(size_t index);

 private:
  train::DataParallel* parallel_;
  std::filesystem::path dir_;  // empty in one process
};

}  // namespace lmul::apps::sweep
