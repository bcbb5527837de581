// Checkpoint files in the safetensors format, readable unchanged by the Python safetensors
// package and PyTorch (safetensors.torch.load_file).
//
// Layout (all integers little-endian):
//   bytes [0, 8)        u64 N, the header length
//   bytes [8, 8 + N)    UTF-8 JSON object, padded with spaces so that 8 + N is a multiple of 8:
//                         {"__metadata__": {"key": "value", ...},
//                          "<tensor name>": {"dtype": "F32", "shape": [d0, d1, ...],
//                                            "data_offsets": [begin, end]}, ...}
//   bytes [8 + N, EOF)  the data section: each tensor's float32 values, row-major, at
//                       [begin, end) relative to the start of the data section. Tensors are
//                       packed back to back from offset 0 (in name order when written here)
//                       and the last one ends at EOF.
//
// Written files carry two metadata entries of their own:
//   "sngan_format"   = "2"
//   "sngan_checksum" = 16 lowercase hex digits of the FNV-1a 64-bit hash (offset basis
//                      0xcbf29ce484222325, prime 0x100000001b3, one byte at a time;
//                      safetensors_checksum() below) of, in this order:
//                      - every other metadata entry, in key order: key, NUL, value, NUL;
//                      - every tensor, in name order: name, NUL, its dimension sizes in
//                        decimal each followed by ',', NUL;
//                      - the data section.
//                      So a damaged name, shape, offset or metadata value (the iteration, an
//                      RNG state) is caught as well as damaged data.
// Format "1" files (an earlier sngan, whose checksum covers the data section only) are still
// read. A file without "sngan_checksum" (e.g. written by Python) is accepted as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/tensor/tensor.h"

namespace sngan {

struct TensorFile {
  std::map<std::string, Tensor> tensors;         // name -> tensor (float32, any shape <= 6-d)
  std::map<std::string, std::string> metadata;   // the header's "__metadata__"
};

inline constexpr const char* kSafetensorsFormatKey = "sngan_format";
inline constexpr const char* kSafetensorsChecksumKey = "sngan_checksum";
inline constexpr const char* kSafetensorsFormatVersion = "2";
// Largest header accepted by the reader (the reference implementation allows 100 MB; ours
// hold a few KB, and a smaller cap bounds the memory a hostile header can make us use).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = uint64_t(16) << 20;

// Writes file to path atomically (write_file_atomic's contract: temp file, fsync, rename,
// fsync of the directory; on failure the previous file at path is untouched). Adds (and
// overwrites) the metadata entries "sngan_format" and "sngan_checksum". Throws sngan::Error
// naming path for an undefined tensor, the reserved name "__metadata__", a name or metadata
// string that is not valid UTF-8, or any I/O failure.
void write_safetensors(const std::string& path, const TensorFile& file);

// Reads and fully validates a safetensors file. The returned metadata holds every entry of
// the header's "__metadata__", including "sngan_format" and "sngan_checksum" when present.
// Throws sngan::Error "cannot read safetensors file '<path>': expected ..., got ..." for a
// missing or unreadable file, a file shorter than 8 bytes, a header length beyond the file
// (or above kSafetensorsMaxHeaderBytes), a header that is not a JSON object, entries with a
// missing or ill-typed dtype/shape/data_offsets, a dtype other than F32, shapes with more than
// 6 or negative dimensions, offsets out of range, overlapping, leaving gaps or not matching
// numel * 4, bytes after the last tensor, an "sngan_format" other than "1" or "2", and for a
// checksum mismatch ("damaged: checksum mismatch"). Memory is allocated only after the header has been
// validated against the file size, so a hostile file cannot make it allocate more than the
// file holds (plus the parsed header).
TensorFile read_safetensors(const std::string& path);

// The same parser over bytes in memory (for fuzzing); source names the bytes in errors.
TensorFile parse_safetensors(const void* data, size_t size, const std::string& source);

// FNV-1a 64-bit over size bytes (the "sngan_checksum" of a data section).
uint64_t safetensors_checksum(const void* data, size_t size, uint64_t hash = 0xcbf29ce484222325ull);

}  // namespace sngan
