#include "data/document_stream.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "data/archive_reader.h"
#include "data/bpe_pretokenize.h"
#include "data/mapped_file.h"

namespace lmul::data {
namespace fs = std::filesystem;

bool is_blank_line(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

namespace {

constexpr std::array kCompressed = {".xz", ".gz", ".zst", ".zstd", ".bz2", ".lzma", ".lz4", ".z"};
constexpr std::array kTar = {".tar", ".tgz", ".taz", ".txz", ".tbz", ".tbz2", ".tzst", ".tlz"};
constexpr std::array kUnsupported = {".zip", ".7z", ".rar"};
constexpr const char* kSupported = "tar (nested), xz, gzip, zstd, bzip2, lzma, lz4";

enum class NameKind { text, jsonl, archive, unsupported, other };

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

template <size_t N>
bool ends_with_any(const std::string& name, const std::array<const char*, N>& suffixes, size_t* len = nullptr) {
  for (const char* s : suffixes)
    if (name.ends_with(s)) {
      if (len) *len = std::char_traits<char>::length(s);
      return true;
    }
  return false;
}

// The name without its compression suffixes ("pile.jsonl.zst" -> "pile.jsonl"), lower case.
std::string strip_compression(std::string_view name) {
  std::string n = lower(name);
  for (size_t len; ends_with_any(n, kCompressed, &len);) n.erase(n.size() - len);
  return n;
}

NameKind classify(std::string_view name) {
  const std::string n = lower(name);
  if (ends_with_any(n, kCompressed) || ends_with_any(n, kTar)) return NameKind::archive;
  if (ends_with_any(n, kUnsupported)) return NameKind::unsupported;
  if (n.ends_with(".jsonl")) return NameKind::jsonl;
  if (n.ends_with(".txt")) return NameKind::text;
  return NameKind::other;
}

[[noreturn]] void unsupported(const std::string& where) {
  throw Error("{}: unsupported archive format; lmul reads {} (convert it, e.g. unzip and tar it)", where, kSupported);
}

// One document read from an archive entry in pieces of about kChunkBytes, cut where the
// pre-tokenizer gives the same pieces (pretoken_safe_split), so memory stays bounded for any size.
void read_text_entry(ArchiveReader& r, int64_t size, const std::shared_ptr<const std::string>& origin,
                     const UnitSink& emit) {
  constexpr size_t kChunk = DocumentStream::kChunkBytes;
  const size_t block = size >= 0 ? std::min<size_t>(static_cast<size_t>(size) + 1, kChunk) : size_t{1} << 16;
  auto doc = std::make_shared<std::string>();
  bool first = true;
  auto emit_piece = [&](std::shared_ptr<std::string> piece, bool eot) {
    WorkUnit u;
    u.kind = WorkUnit::Kind::text;
    u.bytes = *piece;
    u.first = first;
    u.eot = eot;
    u.keep = std::move(piece);
    u.origin = origin;
    emit(std::move(u));
    first = false;
  };
  for (;;) {
    const size_t at = doc->size();
    doc->resize(at + block);
    const size_t got = r.read(doc->data() + at, block);
    doc->resize(at + got);
    if (got == 0) break;
    while (doc->size() > 2 * kChunk) {
      const size_t cut = pretoken_safe_split(*doc, kChunk);
      if (cut >= doc->size()) break;  // no safe cut yet: read on
      emit_piece(std::make_shared<std::string>(doc->substr(0, cut)), false);
      doc->erase(0, cut);
    }
  }
  emit_piece(std::move(doc), true);
}

void emit_jsonl_line(std::string_view line, uint64_t line_no, const std::shared_ptr<const std::string>& origin,
                     const UnitSink& emit) {
  if (is_blank_line(line)) return;
  auto owned = std::make_shared<std::string>(line);
  WorkUnit u;
  u.kind = WorkUnit::Kind::jsonl;
  u.bytes = *owned;
  u.eot = true;
  u.keep = std::move(owned);
  u.origin = origin;
  u.line = line_no;
  emit(std::move(u));
}

void read_jsonl_entry(ArchiveReader& r, const std::shared_ptr<const std::string>& origin, const UnitSink& emit) {
  constexpr size_t kBlock = size_t{1} << 20;
  std::string buf;
  uint64_t line_no = 0;
  for (;;) {
    const size_t at = buf.size();
    buf.resize(at + kBlock);
    const size_t got = r.read(buf.data() + at, kBlock);
    buf.resize(at + got);
    size_t pos = 0;
    for (size_t nl; (nl = buf.find('\n', pos)) != std::string::npos; pos = nl + 1)
      emit_jsonl_line(std::string_view(buf).substr(pos, nl - pos), ++line_no, origin, emit);
    buf.erase(0, pos);
    if (got == 0) break;
  }
  if (!buf.empty()) emit_jsonl_line(buf, ++line_no, origin, emit);
}

}  // namespace

void walk_archive(ArchiveReader& r, const UnitSink& emit, size_t whole_member_bytes, uint64_t* skipped) {
  ArchiveEntry e;
  while (r.next_entry(e)) {
    if (r.is_raw()) {  // no tar inside: the one entry is the decompressed stream
      if (r.is_uncompressed())
        throw Error("{}: neither a tar archive nor a compressed file (truncated or corrupt?); lmul reads {}", r.name(),
                    kSupported);
      const std::string base = strip_compression(fs::path(r.name()).filename().string());
      if (ends_with_any(base, kTar)) throw Error("{}: not a tar archive after decompression (corrupt?)", r.name());
      auto origin = std::make_shared<const std::string>(r.name());
      if (base.ends_with(".jsonl"))
        read_jsonl_entry(r, origin, emit);
      else
        read_text_entry(r, -1, origin, emit);
      continue;
    }
    if (!e.regular) continue;  // directories, links
    auto origin = std::make_shared<const std::string>(r.name() + "/" + e.name);
    switch (classify(e.name)) {
      case NameKind::text:
        read_text_entry(r, e.size, origin, emit);
        break;
      case NameKind::jsonl:
        read_jsonl_entry(r, origin, emit);
        break;
      case NameKind::archive:
        if (e.size >= 0 && static_cast<uint64_t>(e.size) <= whole_member_bytes) {
          auto bytes = std::make_shared<std::string>();
          bytes->reserve(static_cast<size_t>(e.size));
          r.read_all(*bytes);
          WorkUnit u;
          u.kind = WorkUnit::Kind::archive;
          u.bytes = *bytes;
          u.keep = std::move(bytes);
          u.origin = origin;
          emit(std::move(u));
        } else {
          auto inner = ArchiveReader::open_entry(r, *origin);
          walk_archive(*inner, emit, whole_member_bytes, skipped);
        }
        break;
      case NameKind::unsupported:
        unsupported(*origin);
      case NameKind::other:
        ++*skipped;
        break;
    }
  }
}

DocumentStream::DocumentStream(const std::vector<std::string>& inputs) {
  if (inputs.empty()) throw Error("[prepare] no input given; pass --input FILE|DIR|FILE.jsonl|ARCHIVE");
  auto kind_of = [](NameKind k) {
    return k == NameKind::archive ? Kind::archive : k == NameKind::jsonl ? Kind::jsonl : Kind::text;
  };
  for (const auto& path : inputs) {
    std::error_code ec;
    auto st = fs::status(path, ec);
    if (!fs::exists(st)) throw Error("{}: no such file or directory", path);
    if (fs::is_directory(st)) {
      std::vector<Input> found;
      try {
        for (const auto& e : fs::directory_iterator(path)) {
          if (!e.is_regular_file()) continue;
          const NameKind k = classify(e.path().filename().string());
          if (k == NameKind::unsupported) unsupported(e.path().string());
          if (k != NameKind::other) found.push_back({e.path().string(), kind_of(k)});
        }
      } catch (const fs::filesystem_error& e) {
        throw Error("{}: cannot read directory ({})", path, e.code().message());
      }
      if (found.empty()) throw Error("{}: no .txt, .jsonl or archive files in this directory", path);
      std::sort(found.begin(), found.end(), [](const Input& a, const Input& b) { return a.path < b.path; });
      files_.insert(files_.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(st)) {
      const NameKind k = classify(fs::path(path).filename().string());
      if (k == NameKind::unsupported) unsupported(path);
      files_.push_back({path, kind_of(k)});
    } else {
      throw Error("{}: not a file or directory", path);
    }
  }
  for (const auto& f : files_) {
    // Unreadable inputs are found here, before any output file is touched.
    if (::access(f.path.c_str(), R_OK) != 0) throw Error("{}: cannot read ({})", f.path, std::strerror(errno));
    std::error_code ec;
    total_bytes_ += fs::file_size(f.path, ec);
  }
  by_chars_ = inputs.size() == 1 && files_.size() == 1 && files_[0].kind == Kind::text && !fs::is_directory(inputs[0]);
  if (by_chars_ && total_bytes_ == 0) throw Error("{}: empty input", files_[0].path);
}

std::vector<std::string> DocumentStream::files() const {
  std::vector<std::string> v;
  for (const auto& f : files_) v.push_back(f.path);
  return v;
}

void DocumentStream::run(const UnitSink& emit, double char_val_fraction, size_t whole_member_bytes) {
  for (const auto& in : files_) {
    if (in.kind == Kind::archive)
      run_archive(in, emit, whole_member_bytes);
    else
      run_mapped(in, emit, char_val_fraction);
  }
}

void DocumentStream::run_archive(const Input& in, const UnitSink& emit, size_t whole_member_bytes) {
  const uint64_t base = bytes_done_;
  auto reader = ArchiveReader::open_file(in.path);
  walk_archive(
      *reader,
      [&](WorkUnit&& u) {
        bytes_done_ = base + reader->source_bytes();
        emit(std::move(u));
      },
      whole_member_bytes, &skipped_);
  std::error_code ec;
  bytes_done_ = base + fs::file_size(in.path, ec);
}

void DocumentStream::run_mapped(const Input& in, const UnitSink& emit, double char_val_fraction) {
  auto file = std::make_shared<const MappedFile>(in.path);
  auto origin = std::make_shared<const std::string>(in.path);
  std::string_view all(reinterpret_cast<const char*>(file->data()), file->size());
  auto unit = [&](WorkUnit::Kind kind, size_t pos, size_t end) {
    WorkUnit u;
    u.kind = kind;
    u.bytes = all.substr(pos, end - pos);
    u.keep = file;
    u.origin = origin;
    return u;
  };
  const uint64_t base = bytes_done_;

  if (by_chars_) {
    // nanoGPT: train = data[:int(n * 0.9)] of its n characters (code points).
    uint64_t n_chars = 0;
    for (unsigned char c : all) n_chars += (c & 0xC0) != 0x80;
    uint64_t k = static_cast<uint64_t>(static_cast<double>(n_chars) * (1.0 - char_val_fraction));
    size_t cut = all.size();
    for (size_t i = 0; i < all.size(); ++i)
      if ((static_cast<unsigned char>(all[i]) & 0xC0) != 0x80 && k-- == 0) {
        cut = i;
        break;
      }
    for (size_t pos = 0; pos < all.size();) {
      const bool val = pos >= cut;
      const size_t region_end = val ? all.size() : cut;
      const size_t end = pos + kChunkBytes >= region_end
                             ? region_end
                             : pretoken_safe_split(all.substr(0, region_end), pos + kChunkBytes);
      WorkUnit u = unit(WorkUnit::Kind::text, pos, end);
      u.val = val;
      bytes_done_ = base + end;
      emit(std::move(u));
      pos = end;
    }
    return;
  }

  if (in.kind == Kind::jsonl) {
    uint64_t line = 0;
    for (size_t pos = 0; pos < all.size();) {
      const size_t nl = all.find('\n', pos);
      const size_t end = nl == std::string_view::npos ? all.size() : nl;
      ++line;
      if (!is_blank_line(all.substr(pos, end - pos))) {
        WorkUnit u = unit(WorkUnit::Kind::jsonl, pos, end);
        u.eot = true;
        u.line = line;
        bytes_done_ = base + end;
        emit(std::move(u));
      }
      pos = end + 1;
    }
    bytes_done_ = base + all.size();
    return;
  }

  // A text document, in chunks; the last one carries the end-of-text token.
  size_t pos = 0;
  do {
    const size_t end = pos + kChunkBytes >= all.size() ? all.size() : pretoken_safe_split(all, pos + kChunkBytes);
    WorkUnit u = unit(WorkUnit::Kind::text, pos, end);
    u.first = pos == 0;
    u.eot = end == all.size();
    bytes_done_ = base + end;
    emit(std::move(u));
    pos = end;
  } while (pos < all.size());
}

}  // namespace lmul::data
