#pragma once

#include <string>

namespace sngan {

// The CPU this process runs on, detected at run time (the binary may have been built elsewhere).
struct CpuInfo {
  std::string model;         // /proc/cpuinfo's "model name" ("unknown CPU" when not found)
  bool avx2_fma = false;     // AVX2 and FMA3: 8-wide fp32 FMA
  bool avx512f = false;      // 16-wide fp32 FMA
  bool avx512_bf16 = false;  // vdpbf16ps: bf16 pair dot products into fp32
  bool amx_bf16 = false;     // AMX tiles with bf16 dot products (the CPU has them and Linux grants them)
};
CpuInfo cpu_info();

// One line for reports: "<model> (AVX-512 yes, AVX512_BF16 no, AMX-BF16 no)".
std::string describe_cpu(const CpuInfo& cpu);

// The machine's arithmetic peaks, measured: GFLOP/s of `threads` threads that each run
// independent chains of the widest fp32 FMA the CPU has (AVX-512, else AVX2; 0 without either),
// and of bf16 dot products (vdpbf16ps, 4 FLOP per fp32 lane; 0 without AVX512_BF16). Best of
// `repeats` timings of about 20 ms each: a ceiling that no kernel of the same precision beats.
double fma_peak_gflops(int threads, int repeats = 5);
double bf16_dot_peak_gflops(int threads, int repeats = 5);
// The same for AMX tile bf16 dot products (tdpbf16ps on 16x32 by 32x16 tiles; 0 without AMX-BF16).
double amx_bf16_peak_gflops(int threads, int repeats = 5);

}  // namespace sngan
