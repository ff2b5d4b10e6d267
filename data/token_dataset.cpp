#include "data/token_dataset.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <utility>

#include "core/error.h"

namespace lmul::data {

namespace {
int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}
std::string changed(const std::string& path, const std::string& how) {
  return fmt::format(
      "{}: {} while the run was reading it; the run stopped before using other data (restore the file to "
      "resume, or prepare the data again and start a new run)",
      path, how);
}
}  // namespace

TokenDataset::TokenDataset(const std::string& dir) : dir_(dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw Error(
        "dataset '{}' is not a directory (relative paths are from the working directory {}; create it with "
        "`lmul prepare char|gpt2 --input FILE --out {}`, or set dataset=PATH)",
        dir, fs::current_path().string(), dir);
  const std::string meta_path = dir + "/meta.json";
  std::ifstream in(meta_path);
  if (!in) throw Error("{}: missing (is '{}' a directory made by `lmul prepare char|gpt2`?)", meta_path, dir);
  try {
    meta_ = nlohmann::json::parse(in);
    const auto& vocab = meta_.at("vocab_size");
    // Not get<int64_t>() on any number: a float such as 1e30 would be converted out of range.
    if (!vocab.is_number_integer()) throw std::runtime_error("vocab_size " + vocab.dump() + " is not an integer");
    vocab_size_ = vocab.get<int64_t>();
  } catch (const std::exception& e) {
    throw Error("{}: corrupt meta.json ({}); prepare the data again", meta_path, e.what());
  }
  if (vocab_size_ <= 0 || vocab_size_ > 65536)
    throw Error("{}: vocab_size {} out of range 1..65536", meta_path, vocab_size_);
  for (auto [split, file, key] :
       {std::tuple{&train_, "train.bin", "train_tokens"}, std::tuple{&val_, "val.bin", "val_tokens"}}) {
    const std::string p = dir + "/" + file;
    if (!fs::exists(p))
      throw Error("{}: missing; prepare the data again with `lmul prepare char|gpt2 --out {}`", p, dir);
    split->path = p;
    split->fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (split->fd < 0) throw Error("{}: cannot open ({})", p, std::strerror(errno));
    struct stat st {};
    if (::fstat(split->fd, &st) != 0 || !S_ISREG(st.st_mode)) throw Error("{}: not a regular file", p);
    split->size = static_cast<uint64_t>(st.st_size);
    split->device = st.st_dev;
    split->inode = st.st_ino;
    split->mtime_ns = mtime_ns(st);
    if (split->size % 2 != 0) throw Error("{}: odd size {}: not a uint16 token file", p, split->size);
    // A .bin from another (interrupted or older) run than meta.json describes.
    if (meta_.contains(key) && meta_[key].is_number_unsigned() && meta_[key].get<uint64_t>() != split->size / 2)
      throw Error("{}: {} tokens, but meta.json says {} = {}; prepare the data again", p, split->size / 2, key,
                  meta_[key].get<uint64_t>());
  }
}

TokenDataset::SplitFile::~SplitFile() {
  if (fd >= 0) ::close(fd);
}
TokenDataset::SplitFile::SplitFile(SplitFile&& o) noexcept { *this = std::move(o); }
TokenDataset::SplitFile& TokenDataset::SplitFile::operator=(SplitFile&& o) noexcept {
  if (this != &o) {
    if (fd >= 0) ::close(fd);
    path = std::move(o.path);
    fd = std::exchange(o.fd, -1);
    size = o.size;
    device = o.device;
    inode = o.inode;
    mtime_ns = o.mtime_ns;
  }
  return *this;
}

int64_t TokenDataset::tokens(Split s) const { return static_cast<int64_t>(file(s).size / 2); }

void TokenDataset::check_unchanged(const SplitFile& f) const {
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw Error("{}: cannot stat ({})", f.path, std::strerror(errno));
  if (static_cast<uint64_t>(st.st_size) != f.size)
    throw Error(
        changed(f.path, fmt::format("truncated or extended (now {} bytes, {} when opened)", st.st_size, f.size)));
  if (mtime_ns(st) != f.mtime_ns) throw Error(changed(f.path, "rewritten (its modification time changed)"));
  if (::stat(f.path.c_str(), &st) != 0 || st.st_dev != f.device || st.st_ino != f.inode)
    throw Error(changed(f.path, "replaced or removed"));
}

void TokenDataset::batch(Split s, int64_t B, int64_t T, Rng& rng, std::vector<int32_t>& x,
                         std::vector<int32_t>& y) const {
  const SplitFile& f = file(s);
  const int64_t n = tokens(s);
  if (n <= T) throw Error("block_size={} is too large for {}: it has only {} tokens (lower block_size)", T, f.path, n);
  check_unchanged(f);
  x.resize(static_cast<size_t>(B * T));
  y.resize(static_cast<size_t>(B * T));
  std::vector<uint8_t> window(static_cast<size_t>(2 * (T + 1)));
  for (int64_t b = 0; b < B; ++b) {
    const auto i = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(n - T)));
    size_t got = 0;
    while (got < window.size()) {
      const ssize_t r = ::pread(f.fd, window.data() + got, window.size() - got, static_cast<off_t>(2 * i + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error("{}: read failed ({})", f.path, std::strerror(errno));
      if (r == 0) check_unchanged(f);  // a short read: the file shrank (names how); else says so below
      if (r == 0) throw Error(changed(f.path, "cut short"));
      got += static_cast<size_t>(r);
    }
    for (int64_t t = 0; t <= T; ++t) {
      uint16_t v;
      std::memcpy(&v, window.data() + 2 * t, 2);
      if (v >= vocab_size_)
        throw Error("{}: token {} at position {} is ≥ vocab_size {} (data and meta.json disagree)", f.path, v, i + t,
                    vocab_size_);
      if (t < T) x[static_cast<size_t>(b * T + t)] = v;
      if (t > 0) y[static_cast<size_t>(b * T + t - 1)] = v;
    }
  }
}

}  // namespace lmul::data
