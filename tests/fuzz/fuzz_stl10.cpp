// libFuzzer target: STL-10 binary files (data/stl10.h).
//
// An STL-10 record is 27,648 bytes, too long for a fuzzer to grow by chance, so the input
// describes the files rather than being one:
//   byte 0:        bit 0: write a labels file; bit 1: images file = the raw rest of the input
//                  (exercises the size checks); else bits 2-3 + 1 whole records whose
//                  bytes repeat the rest of the input
//   byte 1:        number of label bytes taken from the end of the input (labels file), or
//                  if bit 4 of byte 0 is set, one label per image derived from them
//   rest:          the payload
// The files must open or be rejected with sngan::Error; an opened set must read back every
// record.
#include <cstdint>
#include <string>

#include "core/tensor/check.h"
#include "data/stl10.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const std::string images_path = sngan::fuzz::scratch_path("train_X.bin");
  static const std::string labels_path = sngan::fuzz::scratch_path("train_y.bin");
  const uint8_t flags = data[0];
  size_t label_bytes = data[1];
  const uint8_t* payload = data + 2;
  size_t payload_size = size - 2;
  if (label_bytes > payload_size) label_bytes = payload_size;
  const uint8_t* labels = payload + payload_size - label_bytes;
  payload_size -= label_bytes;

  std::string images;
  if (flags & 2) {
    images.assign(reinterpret_cast<const char*>(payload), payload_size);
  } else {
    const size_t records = ((flags >> 2) & 3) + 1;
    images.resize(records * sngan::Stl10Dataset::kImageBytes);
    for (size_t i = 0; i < images.size(); ++i)
      images[i] = payload_size ? static_cast<char>(payload[i % payload_size]) : '\0';
  }
  sngan::fuzz::write_bytes(images_path, reinterpret_cast<const uint8_t*>(images.data()), images.size());
  std::string label_file(reinterpret_cast<const char*>(labels), label_bytes);
  if ((flags & 16) && label_bytes > 0) {  // one label per image, mostly valid
    const size_t n = images.size() / sngan::Stl10Dataset::kImageBytes;
    label_file.resize(n);
    for (size_t i = 0; i < n; ++i) label_file[i] = static_cast<char>(1 + labels[i % label_bytes] % 11);
  }
  if (flags & 1)
    sngan::fuzz::write_bytes(labels_path, reinterpret_cast<const uint8_t*>(label_file.data()), label_file.size());
  try {
    sngan::Stl10Dataset ds(images_path, (flags & 1) ? labels_path : std::string());
    sngan::Example e;
    for (int64_t i = 0; i < ds.size(); ++i) {
      ds.read(i, e);
      if (e.pixels.size() != static_cast<size_t>(sngan::Stl10Dataset::kImageBytes)) __builtin_trap();
      if (e.label < -1 || e.label >= 10) __builtin_trap();
    }
    if (ds.describe().empty()) __builtin_trap();
  } catch (const sngan::Error&) {
  }
  return 0;
}
