// Streaming reads of tar archives and compressed files through libarchive, never unpacking to
// disk: a file on disk, a member already in memory, or a member of another archive read straight
// from that archive's decompressed stream (an .xz inside a tar: the inner reader pulls its bytes
// from the outer one). Compression: whatever libarchive's filters detect (xz, gzip, zstd, bzip2,
// lzma, ...); format: tar (ustar/pax/gnu) or, for a compressed stream that holds no tar, "raw" —
// one entry whose data is the decompressed stream.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct archive;
struct archive_entry;

namespace lmul::data {

struct ArchiveEntry {
  std::string name;      // path inside the archive ("data" for a raw stream)
  bool regular = false;  // a regular file (directories, links, devices are not)
  int64_t size = -1;     // bytes, -1 when the header does not say (raw streams)
};

class ArchiveReader {
 public:
  // `name` names the archive in errors ("outer.tar/inner.xz"). Throws lmul::Error when the
  // data is neither a tar nor a stream libarchive can decompress.
  static std::unique_ptr<ArchiveReader> open_file(const std::string& path);
  static std::unique_ptr<ArchiveReader> open_memory(std::string_view bytes, std::string name);
  // Reads the current entry of `parent` as an archive of its own; parent must outlive it.
  static std::unique_ptr<ArchiveReader> open_entry(ArchiveReader& parent, std::string name);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // The next entry; false at the end. Throws lmul::Error for a corrupt or truncated archive.
  bool next_entry(ArchiveEntry& entry);
  // Up to n bytes of the current entry's data; 0 at its end. Throws as next_entry.
  size_t read(char* buf, size_t n);
  // The whole current entry appended to out.
  void read_all(std::string& out);

  // The data held no tar: its one entry is the decompressed stream itself.
  bool is_raw() const;
  // True when no compression filter was applied (plain tar or plain bytes).
  bool is_uncompressed() const;
  // Bytes consumed from the underlying source so far (compressed bytes for a compressed file).
  uint64_t source_bytes() const;
  const std::string& name() const { return name_; }

 private:
  explicit ArchiveReader(std::string name);
  [[noreturn]] void fail(const char* what) const;
  void open_checked(int rc);
  static long read_parent(struct archive*, void* self, const void** buf);  // libarchive callback

  struct archive* a_ = nullptr;
  std::string name_;
  std::string entry_name_;
  ArchiveReader* parent_ = nullptr;
  std::unique_ptr<char[]> parent_buf_;
};

}  // namespace lmul::data
