// libFuzzer target: IDX files (data/idx.h), plain or gzip-compressed.
//
// Input: byte 0 picks the file kind (even: an images file, idx3; odd: a labels file, idx1);
// the rest is the file. The file must be read or rejected with sngan::Error. An accepted
// images file is then opened as an IdxDataset with a matching labels file and every example
// read back; an accepted labels file is paired with matching 1x1 images.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/check.h"
#include "data/idx.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void put_be32(std::string& s, uint32_t v) {
  for (int k = 3; k >= 0; --k) s.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
}

std::string idx_header(uint32_t ndim_magic, const std::vector<int64_t>& dims) {
  std::string s;
  put_be32(s, 0x0800u | ndim_magic);
  for (int64_t d : dims) put_be32(s, static_cast<uint32_t>(d));
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const std::string fuzzed = sngan::fuzz::scratch_path("input-idx-ubyte");
  static const std::string other = sngan::fuzz::scratch_path("other-idx-ubyte");
  const bool images = (data[0] & 1) == 0;
  sngan::fuzz::write_bytes(fuzzed, data + 1, size - 1);
  sngan::IdxArray array;
  try {
    array = sngan::read_idx_u8(fuzzed, images ? 3 : 1);
  } catch (const sngan::Error&) {
    return 0;
  }
  uint64_t total = 1;
  for (int64_t d : array.dims) total *= static_cast<uint64_t>(d);
  if (array.data.size() != total) __builtin_trap();
  const int64_t n = array.dims[0];
  if (n > 4096) return 0;  // keep the companion file small
  std::string companion;
  if (images) {
    companion = idx_header(1, {n});
    for (int64_t i = 0; i < n; ++i) companion.push_back(static_cast<char>(i % 10));
  } else {
    companion = idx_header(3, {n, 1, 1});
    companion.append(static_cast<size_t>(n), '\x7f');
  }
  sngan::fuzz::write_bytes(other, reinterpret_cast<const uint8_t*>(companion.data()), companion.size());
  try {
    sngan::IdxDataset ds(images ? fuzzed : other, images ? other : fuzzed);
    sngan::Example e;
    for (int64_t i = 0; i < ds.size(); ++i) ds.read(i, e);
    if (ds.num_classes() < 1 || ds.describe().empty()) __builtin_trap();
  } catch (const sngan::Error&) {
  }
  return 0;
}
