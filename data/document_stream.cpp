#include "data/document_stream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "data/bpe_pretokenize.h"

namespace lmul::data {
namespace fs = std::filesystem;

bool is_blank_line(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

namespace {

uint64_t count_jsonl_documents(const MappedFile& f) {
  std::string_view all(reinterpret_cast<const char*>(f.data()), f.size());
  uint64_t n = 0;
  for (size_t pos = 0; pos < all.size();) {
    size_t nl = all.find('\n', pos);
    size_t end = nl == std::string_view::npos ? all.size() : nl;
    if (!is_blank_line(all.substr(pos, end - pos))) ++n;
    pos = end + 1;
  }
  return n;
}

// Byte offset of character number n (a character = a byte that is no UTF-8 continuation byte).
size_t char_offset(const MappedFile& f, uint64_t n) {
  for (size_t i = 0; i < f.size(); ++i)
    if ((f.data()[i] & 0xC0) != 0x80 && n-- == 0) return i;
  return f.size();
}

}  // namespace

DocumentStream::DocumentStream(const std::vector<std::string>& inputs, double val_fraction) {
  if (inputs.empty()) throw Error("[prepare] no input given; pass --input FILE|DIR|FILE.jsonl");
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    throw Error("[prepare] --val-fraction {} is outside [0, 1)", val_fraction);
  bool single_text = false;
  for (const auto& path : inputs) {
    std::error_code ec;
    auto st = fs::status(path, ec);
    if (!fs::exists(st)) throw Error("{}: no such file or directory", path);
    if (fs::is_directory(st)) {
      std::vector<std::string> txt;
      try {
        for (const auto& e : fs::directory_iterator(path))
          if (e.path().extension() == ".txt" && e.is_regular_file()) txt.push_back(e.path().string());
      } catch (const fs::filesystem_error& e) {
        throw Error("{}: cannot read directory ({})", path, e.code().message());
      }
      if (txt.empty()) throw Error("{}: no .txt files in this directory", path);
      std::sort(txt.begin(), txt.end());
      for (auto& t : txt) files_.push_back({std::move(t), false});
    } else if (fs::is_regular_file(st)) {
      bool jsonl = fs::path(path).extension() == ".jsonl";
      files_.push_back({path, jsonl});
      single_text = inputs.size() == 1 && !jsonl;
    } else {
      throw Error("{}: not a file or directory", path);
    }
  }
  for (const auto& f : files_) {
    std::error_code ec;
    total_bytes_ += fs::file_size(f.path, ec);
  }

  if (single_text) {
    by_chars_ = true;
    MappedFile f(files_[0].path);
    if (f.size() == 0) throw Error("{}: empty input", f.path());
    uint64_t n_chars = 0;
    for (size_t i = 0; i < f.size(); ++i) n_chars += (f.data()[i] & 0xC0) != 0x80;
    // nanoGPT: train = data[:int(n * 0.9)]
    char_cut_ = char_offset(f, static_cast<uint64_t>(static_cast<double>(n_chars) * (1.0 - val_fraction)));
    n_docs_ = 1;
    return;
  }
  for (const auto& f : files_) n_docs_ += f.jsonl ? count_jsonl_documents(MappedFile(f.path)) : 1;
  if (n_docs_ == 0) throw Error("{}: empty input, no documents", inputs.size() == 1 ? inputs[0] : "[prepare] inputs");
  if (val_fraction > 0 && n_docs_ >= 2)
    n_val_docs_ = std::clamp<uint64_t>(static_cast<uint64_t>(std::llround(n_docs_ * val_fraction)), 1, n_docs_ - 1);
}

std::vector<std::string> DocumentStream::files() const {
  std::vector<std::string> v;
  for (const auto& f : files_) v.push_back(f.path);
  return v;
}

bool DocumentStream::open_next_file() {
  if (file_index_ >= files_.size()) return false;
  file_ = std::make_shared<MappedFile>(files_[file_index_++].path);
  pos_ = 0;
  line_ = 0;
  return true;
}

bool DocumentStream::next(WorkUnit& unit) {
  unit = WorkUnit{};
  if (by_chars_) {
    if (!file_ && !open_next_file()) return false;
    std::string_view all(reinterpret_cast<const char*>(file_->data()), file_->size());
    if (pos_ >= all.size()) return false;
    const bool val = pos_ >= char_cut_;
    const size_t region_end = val ? all.size() : char_cut_;
    size_t end = pos_ + kChunkBytes >= region_end ? region_end
                                                  : pretoken_safe_split(all.substr(0, region_end), pos_ + kChunkBytes);
    unit.bytes = all.substr(pos_, end - pos_);
    unit.val = val;
    unit.file = file_;
    pos_ = end;
    return true;
  }

  for (;;) {
    if (!file_) {
      if (file_index_ >= files_.size()) return false;
      open_next_file();
    }
    const bool jsonl = files_[file_index_ - 1].jsonl;
    std::string_view all(reinterpret_cast<const char*>(file_->data()), file_->size());
    const bool val = doc_index_ >= n_docs_ - n_val_docs_;
    if (jsonl) {
      while (pos_ < all.size()) {
        size_t nl = all.find('\n', pos_);
        size_t end = nl == std::string_view::npos ? all.size() : nl;
        std::string_view line = all.substr(pos_, end - pos_);
        ++line_;
        pos_ = end + 1;
        if (is_blank_line(line)) continue;
        unit = WorkUnit{line, true, true, val, file_, line_};
        ++doc_index_;
        return true;
      }
      file_.reset();
      continue;
    }
    // A text document, in chunks; the last one carries the end-of-text token.
    size_t end = pos_ + kChunkBytes >= all.size() ? all.size() : pretoken_safe_split(all, pos_ + kChunkBytes);
    unit = WorkUnit{all.substr(pos_, end - pos_), false, end == all.size(), val, file_, 0};
    pos_ = end;
    if (unit.eot) {
      ++doc_index_;
      file_.reset();
    }
    return true;
  }
}

}  // namespace lmul::data
