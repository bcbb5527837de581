#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/tensor/cpu_info.h"

namespace sngan {
namespace {

// The flags line of /proc/cpuinfo, padded with spaces so " flag " matches whole words.
std::string proc_flags() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("flags", 0) == 0) return " " + line.substr(line.find(':') + 1) + " ";
  return "";
}

TEST(CpuInfo, FeaturesAgreeWithProcCpuinfo) {
  const std::string flags = proc_flags();
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  const CpuInfo cpu = cpu_info();
  EXPECT_EQ(cpu.avx512f, flags.find(" avx512f ") != std::string::npos);
  EXPECT_EQ(cpu.avx512_bf16, flags.find(" avx512_bf16 ") != std::string::npos);
  EXPECT_EQ(cpu.avx2_fma,
            flags.find(" avx2 ") != std::string::npos && flags.find(" fma ") != std::string::npos);
  if (flags.find(" amx_bf16 ") == std::string::npos) EXPECT_FALSE(cpu.amx_bf16);
  EXPECT_NE(cpu.model, "unknown CPU");
  EXPECT_NE(describe_cpu(cpu).find(cpu.model), std::string::npos);
}

TEST(CpuInfo, PeaksAreMeasuredWhereTheCpuHasTheInstructions) {
  const CpuInfo cpu = cpu_info();
  const double fma = fma_peak_gflops(1, 1);
  const double bf16 = bf16_dot_peak_gflops(1, 1);
  ASSERT_TRUE(std::isfinite(fma));
  ASSERT_TRUE(std::isfinite(bf16));
  if (cpu.avx2_fma || cpu.avx512f) {
    // Any x86 core with FMA3 does at least 16 FLOP per cycle at well over 0.1 GHz.
    EXPECT_GT(fma, 1.0);
  } else {
    EXPECT_EQ(fma, 0.0);
  }
  if (cpu.avx512_bf16) EXPECT_GT(bf16, 1.0);
  else EXPECT_EQ(bf16, 0.0);
  const double amx = amx_bf16_peak_gflops(1, 1);
  ASSERT_TRUE(std::isfinite(amx));
  if (cpu.amx_bf16) EXPECT_GT(amx, 1.0);
  else EXPECT_EQ(amx, 0.0);
}

}  // namespace
}  // namespace sngan
