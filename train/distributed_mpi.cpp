// DataParallel over MPI (built when CMake finds MPI). Collectives only where the order of a sum
// is fixed by us: MPI moves bytes (Alltoallv, Allgatherv, Gatherv); every floating-point sum is
// done here, in rank or tensor order. The one reduction left to MPI is MPI_MAX over ints.
#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "optim/adamw.h"
#include "train/distributed.h"

namespace lmul::train {

namespace {

int checked_count(int64_t n) {
  if (n > std::numeric_limits<int>::max())
    throw RuntimeFailure(fmt::format("data parallel: a shard of {} values is more than MPI's int counts hold", n));
  return static_cast<int>(n);
}

class MpiDataParallel final : public DataParallel {
 public:
  MpiDataParallel() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);  // OpenMP threads never call MPI
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiDataParallel() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::vector<size_t> shard(const Parameters& params) override {
    // Tensor i goes to the rank whose equal share of the elements holds its midpoint: contiguous
    // shards of whole tensors, each within half a tensor of total/N.
    int64_t total = 0;
    for (const auto& p : params) total += p.value.numel();
    begin_.assign(static_cast<size_t>(size_) + 1, 0);
    elems_.assign(static_cast<size_t>(size_), 0);
    std::vector<int> owner(params.size());
    int64_t before = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      const int64_t n = params[i].value.numel();
      const int64_t mid2 = 2 * before + n;  // twice the midpoint, in elements
      owner[i] = total > 0 ? static_cast<int>(std::min<int64_t>(size_ - 1, mid2 * size_ / (2 * total))) : 0;
      before += n;
      elems_[static_cast<size_t>(owner[i])] += n;
    }
    for (int o = 0; o < size_; ++o) {
      size_t b = begin_[static_cast<size_t>(o)];
      while (b < params.size() && owner[b] == o) ++b;
      begin_[static_cast<size_t>(o) + 1] = b;
    }
    offset_.assign(static_cast<size_t>(size_), 0);
    for (int o = 1; o < size_; ++o)
      offset_[static_cast<size_t>(o)] = offset_[static_cast<size_t>(o) - 1] + elems_[static_cast<size_t>(o) - 1];
    total_ = total;
    checked_count(total);
    std::vector<size_t> mine;
    for (size_t i = begin_[static_cast<size_t>(rank_)]; i < begin_[static_cast<size_t>(rank_) + 1]; ++i)
      mine.push_back(i);
    return mine;
  }

  float reduce_gradients(Parameters& params) override {
    std::vector<float> send(static_cast<size_t>(total_));
    size_t at = 0;
    for (const auto& p : params) {
      const size_t n = static_cast<size_t>(p.value.numel());
      if (p.value.has_grad())
        std::memcpy(send.data() + at, p.value.grad(), n * sizeof(float));  // else zeros: a missing grad counts as 0
      at += n;
    }
    const int64_t mine = elems_[static_cast<size_t>(rank_)];
    std::vector<float> recv(static_cast<size_t>(mine * size_));
    std::vector<int> scounts(static_cast<size_t>(size_)), sdispls(scounts.size()), rcounts(scounts.size()),
        rdispls(scounts.size());
    for (size_t o = 0; o < scounts.size(); ++o) {
      scounts[o] = checked_count(elems_[o]);
      sdispls[o] = checked_count(offset_[o]);
      rcounts[o] = checked_count(mine);
      rdispls[o] = checked_count(mine * static_cast<int64_t>(o));
    }
    MPI_Alltoallv(send.data(), scounts.data(), sdispls.data(), MPI_FLOAT, recv.data(), rcounts.data(), rdispls.data(),
                  MPI_FLOAT, MPI_COMM_WORLD);
    // The owner's sum, rank by rank: ((g₀ + g₁) + g₂) + …
    std::vector<double> squares(params.size(), 0.0);
    int64_t off = 0;
    for (size_t i = begin_[static_cast<size_t>(rank_)]; i < begin_[static_cast<size_t>(rank_) + 1]; ++i) {
      const int64_t n = params[i].value.numel();
      float* g = params[i].value.grad();
      const float* r0 = recv.data() + off;
#pragma omp parallel for schedule(static)
      for (int64_t j = 0; j < n; ++j) {
        float s = r0[j];
        for (int r = 1; r < size_; ++r) s += r0[static_cast<int64_t>(r) * mine + j];
        g[j] = s;
      }
      squares[i] = optim::grad_sum_of_squares(params[i].value);
      off += n;
    }
    // Every tensor's Σg² from its owner, then added in tensor order as optim::grad_norm does.
    std::vector<int> counts(static_cast<size_t>(size_)), displs(counts.size());
    for (size_t o = 0; o < counts.size(); ++o) {
      counts[o] = static_cast<int>(begin_[o + 1] - begin_[o]);
      displs[o] = static_cast<int>(begin_[o]);
    }
    std::vector<double> all(params.size());
    MPI_Allgatherv(squares.data() + begin_[static_cast<size_t>(rank_)], counts[static_cast<size_t>(rank_)], MPI_DOUBLE,
                   all.data(), counts.data(), displs.data(), MPI_DOUBLE, MPI_COMM_WORLD);
    double total = 0;
    for (double s : all) total += s;
    return static_cast<float>(std::sqrt(total));
  }

  void all_gather_parameters(Parameters& params) override {
    std::vector<float> all(static_cast<size_t>(total_));
    std::vector<float> mine;
    mine.reserve(static_cast<size_t>(elems_[static_cast<size_t>(rank_)]));
    for (size_t i = begin_[static_cast<size_t>(rank_)]; i < begin_[static_cast<size_t>(rank_) + 1]; ++i)
      mine.insert(mine.end(), params[i].value.data(), params[i].value.data() + params[i].value.numel());
    std::vector<int> counts(static_cast<size_t>(size_)), displs(counts.size());
    for (size_t o = 0; o < counts.size(); ++o) {
      counts[o] = static_cast<int>(elems_[o]);
      displs[o] = static_cast<int>(offset_[o]);
    }
    MPI_Allgatherv(mine.data(), counts[static_cast<size_t>(rank_)], MPI_FLOAT, all.data(), counts.data(), displs.data(),
                   MPI_FLOAT, MPI_COMM_WORLD);
    size_t at = 0;
    for (auto& p : params) {
      std::memcpy(p.value.data(), all.data() + at, static_cast<size_t>(p.value.numel()) * sizeof(float));
      at += static_cast<size_t>(p.value.numel());
    }
  }

  void gather_to_root(const std::vector<Tensor>& owned, std::vector<Tensor>& all) override {
    std::vector<float> mine;
    for (const Tensor& t : owned) mine.insert(mine.end(), t.data(), t.data() + t.numel());
    std::vector<int> counts(static_cast<size_t>(size_)), displs(counts.size());
    for (size_t o = 0; o < counts.size(); ++o) {
      counts[o] = static_cast<int>(elems_[o]);
      displs[o] = static_cast<int>(offset_[o]);
    }
    std::vector<float> flat(root() ? static_cast<size_t>(total_) : 0);
    MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_FLOAT, flat.data(), counts.data(), displs.data(),
                MPI_FLOAT, 0, MPI_COMM_WORLD);
    if (!root()) return;
    size_t at = 0;
    for (Tensor& t : all) {
      std::memcpy(t.data(), flat.data() + at, static_cast<size_t>(t.numel()) * sizeof(float));
      at += static_cast<size_t>(t.numel());
    }
  }

  std::vector<double> all_gather(const std::vector<double>& local) override {
    std::vector<double> all(local.size() * static_cast<size_t>(size_));
    MPI_Allgather(local.data(), static_cast<int>(local.size()), MPI_DOUBLE, all.data(), static_cast<int>(local.size()),
                  MPI_DOUBLE, MPI_COMM_WORLD);
    return all;
  }

  uint64_t broadcast(uint64_t value) override {
    MPI_Bcast(&value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    return value;
  }

  int max(int value) override {
    int out = 0;
    MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return out;
  }

  void check_same(uint64_t hash, const std::string& what) override {
    std::vector<uint64_t> all(static_cast<size_t>(size_));
    MPI_Allgather(&hash, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
    for (size_t r = 1; r < all.size(); ++r)
      if (all[r] != all[0])
        throw Error(
            "rank {} of mpirun has another {} than rank 0 (hash {:016x} vs {:016x}): give every rank the "
            "same CONFIG, --set overrides and dataset files (a shared filesystem, or identical copies)",
            r, what, all[r], all[0]);
  }

  [[noreturn]] void fail(const std::exception& e) override {
    // When every rank fails alike (bad input), rank 0's line is the one printed: the others wait
    // for its MPI_Abort to end them (mpirun takes a moment). A failure of this rank alone is
    // printed after the wait. The pause after the line lets mpirun forward it before the abort.
    using std::chrono::milliseconds;
    if (rank_ != 0) std::this_thread::sleep_for(milliseconds(3000));
    const std::string line = error_line(e);
    if (rank_ == 0)
      std::fprintf(stderr, "%s\n", line.c_str());
    else
      std::fprintf(stderr, "%s (on rank %d of mpirun)\n", line.c_str(), rank_);
    std::fflush(stderr);
    std::this_thread::sleep_for(milliseconds(300));
    MPI_Abort(MPI_COMM_WORLD, exit_code_of(e));
    std::abort();  // MPI_Abort does not return
  }

 private:
  int rank_ = 0, size_ = 1;
  std::vector<size_t> begin_;            // begin_[o]..begin_[o+1]: rank o's tensors
  std::vector<int64_t> elems_, offset_;  // rank o's element count and offset in the flat order
  int64_t total_ = 0;
};

}  // namespace

std::unique_ptr<DataParallel> start_data_parallel() {
  if (launched_processes() <= 1) return nullptr;
  return std::make_unique<MpiDataParallel>();
}

}  // namespace lmul::train
