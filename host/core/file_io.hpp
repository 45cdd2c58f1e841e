// Reading whole files (raw or gzip, detected by magic bytes) and JSON files, with errors that name the file.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sparse {

// Bytes of `path`; a gzip file (magic 1f 8b) is inflated. Errors: missing or unreadable file,
// corrupt or truncated gzip stream (with the compressed byte offset).
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path);

// Inflate a gzip buffer; `name` is used in error messages.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& name);

// Parse a JSON file; errors name the file, line and column.
nlohmann::json read_json_file(const std::filesystem::path& path);

// Write text atomically (temporary file + rename), so a crash never leaves half a file.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace sparse
