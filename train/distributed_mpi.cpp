// DataParallel over MPI (built when CMake finds MPI). Collectives only where the order of a sum
// is fixed by us: MPI moves bytes (Alltoallv, Allgatherv, Gatherv); every floating-point sum is
// done here, in rank or tensor order. The one reduction left to MPI is MPI_MAX over ints.
#include <mpi.h>

#include <algorithm>
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
    longest_ = *std::max_element(elems_.begin(), elems_.end());
    tensor_begin_.assign(params.size() + 1, 0);
    for (size_t i = 0; i < params.size(); ++i) tensor_begin_[i + 1] = tensor_begin_[i] + params[i].value.numel();
    checked_count(total);
    std::vector<size_t> mine;
    for (size_t i = begin_[static_cast<size_t>(rank_)]; i < begin_[static_cast<size_t>(rank_) + 1]; ++i)
      mine.push_back(i);
    return mine;
  }

  float reduce_gradients(Parameters& params) override {
    // In rounds, so that the staging buffers stay small (chunk_per_rank) whatever the model's
    // size: in round k every owner receives the k-th chunk of its shard from every rank. Each
    // element's sum is the same whatever the chunking.
    const int64_t mine = elems_[static_cast<size_t>(rank_)], me = offset_[static_cast<size_t>(rank_)];
    std::vector<float> send(static_cast<size_t>(std::min(total_, chunk_per_rank() * size_)));
    std::vector<float> recv(static_cast<size_t>(std::min(mine, chunk_per_rank()) * size_));
    std::vector<int> rcounts(static_cast<size_t>(size_)), rdispls(rcounts.size());
    in_rounds([&](int64_t done, const std::vector<int>& counts, const std::vector<int>& displs) {
      for (size_t o = 0; o < counts.size(); ++o)
        each_piece(offset_[o] + done, counts[o], [&](size_t i, int64_t off, int64_t k, int64_t pos) {
          float* dst = send.data() + displs[o] + pos;
          if (params[i].value.has_grad())
            std::memcpy(dst, params[i].value.grad() + off, static_cast<size_t>(k) * sizeof(float));
          else
            std::fill_n(dst, k, 0.0f);  // a missing grad counts as 0
        });
      const int c = counts[static_cast<size_t>(rank_)];  // this round's chunk of this rank's shard, from each rank
      for (size_t o = 0; o < rcounts.size(); ++o) {
        rcounts[o] = c;
        rdispls[o] = checked_count(int64_t{c} * static_cast<int64_t>(o));
      }
      MPI_Alltoallv(send.data(), counts.data(), displs.data(), MPI_FLOAT, recv.data(), rcounts.data(), rdispls.data(),
                    MPI_FLOAT, MPI_COMM_WORLD);
      // The owner's sum, rank by rank: ((g₀ + g₁) + g₂) + …
      each_piece(me + done, c, [&](size_t i, int64_t off, int64_t k, int64_t pos) {
        float* g = params[i].value.grad() + off;
        const float* r0 = recv.data() + pos;
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < k; ++j) {
          float s = r0[j];
          for (int r = 1; r < size_; ++r) s += r0[static_cast<int64_t>(r) * c + j];
          g[j] = s;
        }
      });
    });
    std::vector<double> squares(params.size(), 0.0);
    for (size_t i = begin_[static_cast<size_t>(rank_)]; i < begin_[static_cast<size_t>(rank_) + 1]; ++i)
      squares[i] = optim::grad_sum_of_squares(params[i].value);
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
    // In rounds as reduce_gradients: round k gathers the k-th chunk of every owner's shard.
    std::vector<float> all(static_cast<size_t>(std::min(total_, chunk_per_rank() * size_)));
    in_rounds([&](int64_t done, const std::vector<int>& counts, const std::vector<int>& displs) {
      const auto pieces = [&](size_t o, auto copy) {
        each_piece(offset_[o] + done, counts[o], [&](size_t i, int64_t off, int64_t k, int64_t pos) {
          copy(params[i].value.data() + off, all.data() + displs[o] + pos, static_cast<size_t>(k) * sizeof(float));
        });
      };
      pieces(static_cast<size_t>(rank_), [](float* p, float* a, size_t bytes) { std::memcpy(a, p, bytes); });
      MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all.data(), counts.data(), displs.data(), MPI_FLOAT,
                     MPI_COMM_WORLD);
      for (size_t o = 0; o < counts.size(); ++o)
        if (o != static_cast<size_t>(rank_))
          pieces(o, [](float* p, float* a, size_t bytes) { std::memcpy(p, a, bytes); });
    });
  }

  void gather_to_root(const std::vector<Tensor>& owned, std::vector<Tensor>& all) override {
    // In rounds as all_gather_parameters, into rank 0 only.
    const size_t first = begin_[static_cast<size_t>(rank_)];
    std::vector<float> buf(static_cast<size_t>(std::min(total_, chunk_per_rank() * size_)));
    in_rounds([&](int64_t done, const std::vector<int>& counts, const std::vector<int>& displs) {
      const size_t me = static_cast<size_t>(rank_);
      float* mine = buf.data() + (root() ? displs[me] : 0);
      each_piece(offset_[me] + done, counts[me], [&](size_t i, int64_t off, int64_t k, int64_t pos) {
        std::memcpy(mine + pos, owned[i - first].data() + off, static_cast<size_t>(k) * sizeof(float));
      });
      if (!root()) {
        MPI_Gatherv(mine, counts[me], MPI_FLOAT, nullptr, nullptr, nullptr, MPI_FLOAT, 0, MPI_COMM_WORLD);
        return;
      }
      MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf.data(), counts.data(), displs.data(), MPI_FLOAT, 0,
                  MPI_COMM_WORLD);
      for (size_t o = 0; o < counts.size(); ++o)
        each_piece(offset_[o] + done, counts[o], [&](size_t i, int64_t off, int64_t k, int64_t pos) {
          std::memcpy(all[i].data() + off, buf.data() + displs[o] + pos, static_cast<size_t>(k) * sizeof(float));
        });
    });
  }

  std::vector<double> all_gather(const std::vector<double>& local) override {
    std::vector<double> all(local.size() * static_cast<size_t>(size_));
    MPI_Allgather(local.data(), static_cast<int>(local.size()), MPI_DOUBLE, all.data(), static_cast<int>(local.size()),
                  MPI_DOUBLE, MPI_COMM_WORLD);
    return all;
  }

  std::vector<std::string> gather_text(const std::string& local) override {
    const int n = checked_count(static_cast<int64_t>(local.size()));
    std::vector<int> counts(root() ? static_cast<size_t>(size_) : 0), displs(counts.size());
    MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    int64_t total = 0;
    for (size_t r = 0; r < counts.size(); ++r) {
      displs[r] = checked_count(total);
      total += counts[r];
    }
    std::string all(static_cast<size_t>(total), '\0');
    MPI_Gatherv(local.data(), n, MPI_CHAR, all.data(), counts.data(), displs.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
    std::vector<std::string> out;
    for (size_t r = 0; r < counts.size(); ++r)
      out.push_back(all.substr(static_cast<size_t>(displs[r]), static_cast<size_t>(counts[r])));
    return out;
  }

  void wait_for_all() override {
    // MPI's blocking barrier polls at full speed; this one looks every 50 ms.
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_Ibarrier(MPI_COMM_WORLD, &request);
    for (int done = 0;;) {
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (done) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
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
  std::vector<int64_t> tensor_begin_;    // tensor i's offset in the flat order (one past: total_)
  int64_t total_ = 0, longest_ = 0;      // elements in all, in the largest shard

  // Values per owner per round of the exchanges: the send and receive buffers hold size_ of them,
  // kStageFloats in all (4 MiB each) up to 16 ranks, instead of every parameter; at least 2^16
  // (256 KB messages) beyond, so that the rounds' latency stays small next to their bytes.
  static constexpr int64_t kStageFloats = int64_t{1} << 20;
  int64_t chunk_per_rank() const { return std::max<int64_t>(int64_t{1} << 16, kStageFloats / size_); }

  // Calls f(done, counts, displs) for each round of an exchange over the owners' shards: round k
  // moves the values done = k·chunk_per_rank() .. done + counts[o] of owner o's shard, at displs[o]
  // of a buffer that holds every owner's chunk of the round in rank order.
  template <class F>
  void in_rounds(F&& f) const {
    const int64_t chunk = chunk_per_rank();
    std::vector<int> counts(static_cast<size_t>(size_)), displs(counts.size());
    for (int64_t done = 0; done < longest_; done += chunk) {
      int64_t at = 0;
      for (size_t o = 0; o < counts.size(); ++o) {
        counts[o] = checked_count(std::clamp<int64_t>(elems_[o] - done, 0, chunk));
        displs[o] = checked_count(at);
        at += counts[o];
      }
      f(done, counts, displs);
    }
  }

  // Calls f(tensor, offset in the tensor, count, offset in the range) for each piece of the flat
  // range [at, at + n) that lies in one tensor, in order.
  template <class F>
  void each_piece(int64_t at, int64_t n, F&& f) const {
    if (n <= 0) return;
    size_t i =
        static_cast<size_t>(std::upper_bound(tensor_begin_.begin(), tensor_begin_.end(), at) - tensor_begin_.begin()) -
        1;
    for (int64_t pos = 0; pos < n; ++i) {
      const int64_t k = std::min(n - pos, tensor_begin_[i + 1] - (at + pos));
      if (k > 0) f(i, at + pos - tensor_begin_[i], k, pos);
      pos += std::max<int64_t>(k, 0);
    }
  }
};

}  // namespace

std::unique_ptr<DataParallel> start_data_parallel() {
  if (launched_processes() <= 1) return nullptr;
  return std::make_unique<MpiDataParallel>();
}

}  // namespace lmul::train
