// libFuzzer target: CIFAR-10/100 binary batch files (data/cifar.h).
//
// Input: byte 0 picks the variant (bit 0: CIFAR-100, bit 1: coarse labels); the rest is the
// batch file. It must open or be rejected with sngan::Error; an opened set must read back
// every record with a label in range.
#include <cstdint>
#include <string>

#include "core/tensor/check.h"
#include "data/cifar.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const std::string path = sngan::fuzz::scratch_path("batch.bin");
  const auto kind = (data[0] & 1) ? sngan::CifarKind::kCifar100 : sngan::CifarKind::kCifar10;
  const bool coarse = (data[0] & 2) != 0;
  sngan::fuzz::write_bytes(path, data + 1, size - 1);
  try {
    sngan::CifarDataset ds(kind, {path}, coarse);
    sngan::Example e;
    for (int64_t i = 0; i < ds.size(); ++i) {
      ds.read(i, e);
      if (e.label < 0 || e.label >= ds.num_classes() || e.pixels.size() != 3072) __builtin_trap();
      if (ds.source(i).empty()) __builtin_trap();
    }
  } catch (const sngan::Error&) {
  }
  return 0;
}
