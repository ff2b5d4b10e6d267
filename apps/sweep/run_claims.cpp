#include "apps/sweep/run_claims.h"

#include <unistd.h>

#include <chrono>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "core/error.h"

namespace lmul::apps::sweep {

namespace fs = std::filesystem;

namespace {
constexpr const char* kPrefix = ".mpi-claims-";
}

RunClaims::RunClaims(const fs::path& sweep_dir, train::DataParallel* parallel) : parallel_(parallel) {
  if (!parallel_) return;
  uint64_t token = 0;
  if (parallel_->root()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sweep_dir, ec))
      if (e.path().filename().string().rfind(kPrefix, 0) == 0) fs::remove_all(e.path(), ec);  // a killed launch's
    token = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
            (static_cast<uint64_t>(::getpid()) << 40);
    const fs::path dir = sweep_dir / fmt::format("{}{:016x}", kPrefix, token);
    if (!fs::create_directory(dir, ec) || ec)
      throw RuntimeFailure(fmt::format("sweep: could not create {} ({})", dir.string(), ec.message()));
  }
  token = parallel_->broadcast(token);
  dir_ = sweep_dir / fmt::format("{}{:016x}", kPrefix, token);
  if (!fs::is_directory(dir_))
    throw Error(
        "sweep: rank {} of mpirun does not see {}, which rank 0 created: under mpirun the sweep dir must be on "
        "a filesystem every rank shares (NFS or the like; pass --out SHARED_DIR)",
        parallel_->rank(), dir_.string());
}

RunClaims::~RunClaims() {
  if (!parallel_ || !parallel_->root()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);  // best effort: a leftover is removed by the next launch
}

bool RunClaims::take(size_t index) {
  if (!parallel_) return true;
  std::error_code ec;
  const fs::path claim = dir_ / std::to_string(index);
  const bool created = fs::create_directory(claim, ec);
  if (ec) throw RuntimeFailure(fmt::format("sweep: could not create {} ({})", claim.string(), ec.message()));
  return created;
}

}  // namespace lmul::apps::sweep
