#include "core/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lmul {

size_t dtype_size(const std::string& d) {
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "U8" || d == "I8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

SafetensorsFile SafetensorsFile::load(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("{}: cannot open ({})", path, std::strerror(errno));
  f.raw_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const auto& raw = f.raw_;
  if (raw.size() < 8) throw Error("{}: not a safetensors file (only {} bytes)", path, raw.size());
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | raw[static_cast<size_t>(i)];
  if (n < 2 || n > raw.size() - 8)
    throw Error("{}: not a safetensors file or truncated (header length {} but file has {} bytes)", path, n,
                raw.size());
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(raw.begin() + 8, raw.begin() + 8 + static_cast<int64_t>(n));
  } catch (const std::exception& e) {
    std::string why = e.what();  // may quote the corrupt bytes: keep the message one printable line
    for (char& ch : why)
      if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
    throw Error("{}: corrupt safetensors header (not JSON: {})", path, why);
  }
  if (!h.is_object()) throw Error("{}: corrupt safetensors header (not a JSON object)", path);
  f.data_offset_ = 8 + n;
  const size_t data_size = raw.size() - f.data_offset_;
  size_t covered = 0;
  for (auto& [name, v] : h.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) throw Error("{}: __metadata__ is not an object", path);
      for (auto& [k, s] : v.items()) {
        if (!s.is_string()) throw Error("{}: __metadata__.{} is not a string", path, k);
        f.metadata_[k] = s.get<std::string>();
      }
      continue;
    }
    try {
      SafetensorsEntry e;
      e.dtype = v.at("dtype").get<std::string>();
      e.shape = v.at("shape").get<Shape>();
      auto off = v.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2) throw Error("data_offsets must have 2 entries");
      e.begin = off[0];
      e.end = off[1];
      const size_t es = dtype_size(e.dtype);
      if (es == 0) throw Error("unknown dtype {}", e.dtype);
      for (int64_t d : e.shape)
        if (d < 0) throw Error("negative dimension");
      if (e.begin > e.end || e.end > data_size)
        throw Error("data range [{}, {}) outside the {} data bytes (truncated file?)", e.begin, e.end, data_size);
      if (e.end - e.begin != static_cast<size_t>(numel(e.shape)) * es)
        throw Error("{} bytes for shape {} of {}", e.end - e.begin, shape_str(e.shape), e.dtype);
      covered += e.end - e.begin;
      f.entries_[name] = e;
    } catch (const Error& err) {
      throw Error("{}: tensor '{}': {}", path, name, err.what());
    } catch (const std::exception& err) {
      throw Error("{}: tensor '{}': malformed header entry ({})", path, name, err.what());
    }
  }
  if (covered != data_size)
    throw Error("{}: tensors cover {} bytes but the data section has {} (corrupt or truncated)", path, covered,
                data_size);
  return f;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw Error("{}: no tensor '{}'", path_, name);
  return it->second;
}

std::span<const uint8_t> SafetensorsFile::bytes(const std::string& name) const {
  const auto& e = entry(name);
  return {raw_.data() + data_offset_ + e.begin, e.end - e.begin};
}

std::span<const uint8_t> SafetensorsFile::data_section() const {
  return {raw_.data() + data_offset_, raw_.size() - data_offset_};
}

std::vector<float> SafetensorsFile::f32(const std::string& name, const Shape* expected) const {
  const auto& e = entry(name);
  if (e.dtype != "F32") throw Error("{}: tensor '{}' is {}, expected F32", path_, name, e.dtype);
  if (expected && *expected != e.shape)
    throw Error("{}: tensor '{}' has shape {}, expected {}", path_, name, shape_str(e.shape), shape_str(*expected));
  auto b = bytes(name);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

std::vector<int32_t> SafetensorsFile::i32(const std::string& name) const {
  const auto& e = entry(name);
  if (e.dtype != "I32") throw Error("{}: tensor '{}' is {}, expected I32", path_, name, e.dtype);
  auto b = bytes(name);
  std::vector<int32_t> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

namespace {
void write_all(int fd, const void* p, size_t n, const std::string& path) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw RuntimeFailure(fmt::format("{}: write failed ({})", path, std::strerror(errno)));
    }
    c += w;
    n -= static_cast<size_t>(w);
  }
}
}  // namespace

void save_safetensors(const std::string& path, const std::vector<SafetensorsOut>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h;
  if (!metadata.empty()) h["__metadata__"] = metadata;
  size_t off = 0;
  for (const auto& t : tensors) {
    LMUL_ASSERT(t.bytes.size() == static_cast<size_t>(numel(t.shape)) * dtype_size(t.dtype));
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string header = h.dump();
  while (header.size() % 8) header += ' ';
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>((header.size() >> (8 * i)) & 0xff);

  namespace fs = std::filesystem;
  fs::path target(path);
  if (fs::is_directory(target)) throw Error("{}: is a directory (give a file name)", path);
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string tmp = (dir / fmt::format(".{}.tmp", target.filename().string())).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)  // named by the file asked for (the temporary name beside it means nothing to a user)
    throw RuntimeFailure(fmt::format("{}: cannot write ({}{})", path, std::strerror(errno),
                                     fs::is_directory(dir) ? "" : "; its directory does not exist"));
  try {
    // Errors name the file asked for; it keeps its previous contents (the temporary one is removed).
    write_all(fd, len, 8, path);
    write_all(fd, header.data(), header.size(), path);
    for (const auto& t : tensors) write_all(fd, t.bytes.data(), t.bytes.size(), path);
    if (::fsync(fd) != 0) throw RuntimeFailure(fmt::format("{}: fsync failed ({})", path, std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw RuntimeFailure(fmt::format("{}: rename failed ({})", path, std::strerror(e)));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h) {
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string fnv1a64_hex(std::span<const uint8_t> bytes) { return fmt::format("{:016x}", fnv1a64(bytes)); }

}  // namespace lmul
