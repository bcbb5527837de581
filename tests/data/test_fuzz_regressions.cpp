// Inputs found by the libFuzzer targets in tests/fuzz/ (scripts/fuzz.sh), kept as regression
// tests: each must now be rejected with a clear sngan::Error.
#include <sys/resource.h>

#include "data/idx.h"
#include "tests/data/data_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SNGAN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SNGAN_TEST_ASAN 1
#endif
#endif

namespace sngan {
namespace {

using testing::expect_error;
using testing::TempDir;
using testing::write_bytes;
using testing::write_gz;

std::vector<uint8_t> be32(std::vector<uint8_t> v, uint32_t x) {
  for (int k = 3; k >= 0; --k) v.push_back(static_cast<uint8_t>(x >> (8 * k)));
  return v;
}

// fuzz_idx: a 26-byte file whose header announces 0x0fffffff x 16 x 15 images (64 GB, just
// under the 2^36-byte cap). The reader allocated the announced size before reading: a
// std::bad_alloc ("internal error") here, and with a smaller announcement, gigabytes zeroed
// for a file of a few bytes. It now grows the buffer as the data arrive.
TEST(FuzzRegressions, IdxHeaderAnnouncingHugeDataFailsWithoutAllocatingIt) {
  TempDir dir;
  std::vector<uint8_t> bytes = be32(be32(be32(be32({}, 0x00000803), 0x0fffffff), 16), 15);
  bytes.resize(bytes.size() + 10, 0);
  write_bytes(dir.file("huge-images-idx3-ubyte"), bytes);
  write_gz(dir.file("huge-images-idx3-ubyte.gz"), bytes);
  // Half a gigabyte of address space is plenty for the reader now (not under ASan, which
  // reserves terabytes of shadow memory up front).
#ifndef SNGAN_TEST_ASAN
  rlimit old{};
  getrlimit(RLIMIT_AS, &old);
  rlimit tight = old;
  tight.rlim_cur = std::min<rlim_t>(old.rlim_max, rlim_t(4) << 30);
  setrlimit(RLIMIT_AS, &tight);
#endif
  for (const char* name : {"huge-images-idx3-ubyte", "huge-images-idx3-ubyte.gz"})
    expect_error([&] { read_idx_u8(dir.file(name), 3); },
                 {dir.file(name), "expected 64424509200 bytes of data", "got 10"});
#ifndef SNGAN_TEST_ASAN
  setrlimit(RLIMIT_AS, &old);
#endif
}

}  // namespace
}  // namespace sngan
