#include "data/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include "core/error.h"

namespace lmul::data {
namespace {

constexpr size_t kParentBlock = size_t{1} << 16;

struct archive* new_reader() {
  struct archive* a = archive_read_new();
  if (!a) throw RuntimeFailure("libarchive: out of memory");
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_format_raw(a);  // last resort: a compressed stream that holds no tar
  return a;
}

}  // namespace

ArchiveReader::ArchiveReader(std::string name) : a_(new_reader()), name_(std::move(name)) {}

ArchiveReader::~ArchiveReader() {
  if (a_) archive_read_free(a_);
}

void ArchiveReader::fail(const char* what) const {
  const char* msg = archive_error_string(a_);
  std::string where = entry_name_.empty() ? name_ : name_ + "/" + entry_name_;
  throw Error("{}: {} ({})", where, what, msg ? msg : "no details from libarchive");
}

void ArchiveReader::open_checked(int rc) {
  if (rc != ARCHIVE_OK) fail("cannot open as a tar archive or compressed file");
}

std::unique_ptr<ArchiveReader> ArchiveReader::open_file(const std::string& path) {
  std::unique_ptr<ArchiveReader> r(new ArchiveReader(path));
  r->open_checked(archive_read_open_filename(r->a_, path.c_str(), size_t{1} << 20));
  return r;
}

std::unique_ptr<ArchiveReader> ArchiveReader::open_memory(std::string_view bytes, std::string name) {
  std::unique_ptr<ArchiveReader> r(new ArchiveReader(std::move(name)));
  r->open_checked(archive_read_open_memory(r->a_, bytes.data(), bytes.size()));
  return r;
}

long ArchiveReader::read_parent(struct archive*, void* self, const void** buf) {
  auto* r = static_cast<ArchiveReader*>(self);
  la_ssize_t n = archive_read_data(r->parent_->a_, r->parent_buf_.get(), kParentBlock);
  if (n < 0) {
    // The child reports its parent's failure (e.g. a truncated outer tar) as its own read error.
    const char* msg = archive_error_string(r->parent_->a_);
    archive_set_error(r->a_, -1, "%s", msg ? msg : "read error in the enclosing archive");
    return -1;
  }
  *buf = r->parent_buf_.get();
  return static_cast<long>(n);
}

std::unique_ptr<ArchiveReader> ArchiveReader::open_entry(ArchiveReader& parent, std::string name) {
  std::unique_ptr<ArchiveReader> r(new ArchiveReader(std::move(name)));
  r->parent_ = &parent;
  r->parent_buf_ = std::make_unique<char[]>(kParentBlock);
  r->open_checked(archive_read_open(r->a_, r.get(), nullptr, &ArchiveReader::read_parent, nullptr));
  return r;
}

bool ArchiveReader::next_entry(ArchiveEntry& entry) {
  struct archive_entry* e = nullptr;
  int rc = archive_read_next_header(a_, &e);
  if (rc == ARCHIVE_EOF) return false;
  if (rc < ARCHIVE_WARN) fail("corrupt or truncated archive");
  // ARCHIVE_WARN (e.g. an unknown pax keyword) still gives a usable entry.
  const char* path = archive_entry_pathname(e);
  entry.name = path ? path : "";
  entry.regular = archive_entry_filetype(e) == AE_IFREG;
  entry.size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
  entry_name_ = entry.name;
  return true;
}

size_t ArchiveReader::read(char* buf, size_t n) {
  la_ssize_t got = archive_read_data(a_, buf, n);
  if (got < 0) fail("corrupt or truncated data");
  return static_cast<size_t>(got);
}

void ArchiveReader::read_all(std::string& out) {
  size_t at = out.size();
  for (;;) {
    out.resize(at + kParentBlock);
    size_t got = read(out.data() + at, kParentBlock);
    at += got;
    if (got == 0) break;
  }
  out.resize(at);
}

bool ArchiveReader::is_raw() const { return archive_format(a_) == ARCHIVE_FORMAT_RAW; }

bool ArchiveReader::is_uncompressed() const {
  return archive_filter_count(a_) <= 1;  // only the "none" filter (the source itself)
}

uint64_t ArchiveReader::source_bytes() const { return static_cast<uint64_t>(archive_filter_bytes(a_, -1)); }

}  // namespace lmul::data
