// Writing token files: little-endian uint16 ids (nanoGPT's train.bin / val.bin) and meta.json,
// through a temporary file renamed into place.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace lmul::data {

void write_tokens_atomic(const std::string& path, std::span<const uint16_t> ids);
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace lmul::data
