// Data-parallel training over MPI (`mpirun -np N lmul train CONFIG`): the processes ("ranks") of
// one run, and the collective steps the trainer takes through them. nanoGPT's semantics: the
// global batch is batch_size × gradient_accumulation_steps for any N, each rank runs N-th of the
// micro-batches. ZeRO-1 as llm.c: each rank owns the AdamW state of a contiguous run of whole
// parameter tensors (balanced by size); gradients go to their owner, which sums the N
// contributions in rank order (never MPI_SUM: its order is the library's), updates its shard, and
// the parameters are all-gathered. Every sum that reaches the weights or the logs has a fixed
// order, so a run is bit-identical from one launch to the next (docs: README, "Training on
// several processes or machines").
//
// `mpirun -np N lmul sweep` uses the same processes to spread whole runs over the ranks
// (apps/sweep/run_claims.h): there only the rank, broadcast, check_same, wait_for_all,
// gather_text and fail are used.
//
// MPI is optional: a build without it (CMake found no MPI) refuses a launch by mpirun with N > 1.
#pragma once
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/parameter.h"

namespace lmul::train {

class DataParallel {
 public:
  virtual ~DataParallel() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool root() const { return rank() == 0; }

  // Splits the tensors into size() contiguous shards balanced by element count; returns the
  // indices of this rank's tensors.
  virtual std::vector<size_t> shard(const Parameters& params) = 0;
  // Every rank's gradients summed into the owner's tensors, in rank order (a tensor this rank
  // does not own keeps its local gradient). Returns ‖g‖₂ of the summed gradients, computed as
  // optim::grad_norm computes it in one process: per-tensor sums of squares in double, added in
  // tensor order.
  virtual float reduce_gradients(Parameters& params) = 0;
  // Each owner's tensors copied to every rank.
  virtual void all_gather_parameters(Parameters& params) = 0;
  // Rank 0 receives every owner's tensors of `owned` (one vector per rank's shard, in shard order)
  // into `all` (every tensor, in parameter order). Other ranks only send; `all` may be empty there.
  virtual void gather_to_root(const std::vector<Tensor>& owned, std::vector<Tensor>& all) = 0;
  // The per-micro-batch values of every rank, concatenated in rank order (each rank gives as many).
  virtual std::vector<double> all_gather(const std::vector<double>& local) = 0;
  virtual uint64_t broadcast(uint64_t value) = 0;  // rank 0's value
  virtual int max(int value) = 0;                  // over all ranks (an order-free integer reduction)
  // Every rank's text, in rank order, on rank 0 (empty elsewhere).
  virtual std::vector<std::string> gather_text(const std::string& local) = 0;
  // Returns once every rank has called it. A rank that waits sleeps between checks instead of
  // spinning a core (a sweep's rank that ran out of runs may wait an hour for the others).
  virtual void wait_for_all() = 0;
  // Throws lmul::Error naming the first rank whose value differs from rank 0's.
  virtual void check_same(uint64_t hash, const std::string& what) = 0;
  // The error path: one line (rank 0's; another rank's only if rank 0 did not fail) and every
  // process ends with the exit code lmul gives the error (2 bad input, 3 diverged, 1 otherwise).
  [[noreturn]] virtual void fail(const std::exception& e) = 0;
};

// The processes mpirun started this one with (1 when not under mpirun).
int launched_processes();

// The run's processes when mpirun started more than one, else nullptr (plain `lmul train`:
// nothing of MPI is touched). Throws lmul::Error when mpirun started several processes but this
// build has no MPI.
std::unique_ptr<DataParallel> start_data_parallel();

// A hash of what every rank must agree on: the resolved config (JSON text) and, for a prepared
// dataset directory, each file's name, size and first and last MiB (not the whole file: a 9 GB
// train.bin would take a minute to read at every start).
uint64_t run_identity_hash(const std::string& resolved_config, const std::string& dataset);

// The exit code and one line lmul prints for an error (apps/main.cpp's mapping).
int exit_code_of(const std::exception& e);
std::string error_line(const std::exception& e);

}  // namespace lmul::train
