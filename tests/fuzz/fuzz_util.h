// Shared helpers for the libFuzzer targets in tests/fuzz/ (built with -DSNGAN_FUZZ=ON, see
// scripts/fuzz.sh).
//
// Contract checked by every target: parsing hostile bytes either succeeds or throws
// sngan::Error. Any other exception escapes LLVMFuzzerTestOneInput and libFuzzer reports it
// (as a crash, "deadly signal" after std::terminate), as do ASan/UBSan findings.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace sngan::fuzz {

// A file path private to this process, rewritten for every input. /dev/shm when present
// (no disk I/O per execution), else the temp dir.
inline std::string scratch_path(const std::string& name) {
  const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/sngan_fuzz_" + std::to_string(::getpid()) + "_" + name;
}

inline void write_bytes(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();  // the harness itself is broken: stop loudly
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
}

}  // namespace sngan::fuzz
