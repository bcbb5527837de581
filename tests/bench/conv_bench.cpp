// conv_bench: how close the conv kernels run to the GEMM they are built on.
//  (a) GEMM GFLOP/s (kernels::matmul: the AVX-512 micro-kernel, or Eigen's GEMM without
//      AVX-512F or with --eigen 1) at the shapes the conv layer makes;
//  (b) conv2d forward, backward_input, backward_weight and their sum (fwd+bwd) in GFLOP/s,
//      counting 2 * MACs of the equivalent GEMM (forward + both backwards = 3x forward FLOPs).
// Each measurement: one warm-up, then --reps timed repetitions; prints the median and the min.
// Wall-clock times: run on an otherwise idle machine (the load average is printed first).
//
//   conv_bench [--threads N] [--reps N] [--batch N] [--channels C] [--in C] [--out C]
//              [--size HW] [--kernel K] [--stride S] [--pad P] [--bf16 1] [--eigen 1]
//              [--im2col 1] [--winograd 0]
// Defaults: all OpenMP threads, 5 reps, N=64, Cin=Cout=128, 16x16, 3x3 stride 1 pad 1, fp32.
// --bf16 1 runs every kernel in the bf16 precision (on the CPU's native bf16 engine where it has one).
// --eigen 1 runs the fp32 GEMMs on Eigen even where the AVX-512 micro-kernel serves.
// --im2col 1 gives the GEMMs im2col copies (and backward_input col2im) even where they would
// read the conv's input in place.
// --winograd 0 runs convs through im2col + GEMM even where Winograd F(2x2, 3x3) (3x3 stride 1)
// or F(2x2, 2x2) (4x4 stride 2) would serve (fp32 on AVX-512, 32 channels and more).
// --channels sets both Cin and Cout; --in and --out set one.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor/kernels/gemm_ops.h"
#include "core/tensor/rng.h"

using namespace sngan;

namespace {

struct Timing {
  double median = 0, min = 0;  // seconds
};

Timing time_it(int reps, const std::function<void()>& f) {
  f();  // warm-up: workspaces grow, pages fault in, threads start
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
}

void report(const std::string& what, double flops, const Timing& t) {
  std::printf("%-46s %8.2f ms median %8.2f ms min %7.1f GFLOP/s median %7.1f GFLOP/s best\n",
              what.c_str(), t.median * 1e3, t.min * 1e3, flops / t.median * 1e-9,
              flops / t.min * 1e-9);
}

Tensor randn(Rng& rng, const Shape& s) {
  Tensor t = Tensor::empty(s);
  rng.fill_normal(t);
  return t;
}

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--threads N] [--reps N] [--batch N] [--channels C] [--in C] [--out C] [--size HW]\n"
               "          [--kernel K] [--stride S] [--pad P] [--bf16 1] [--eigen 1] [--im2col 1] [--winograd 0]\n",
               argv0);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = omp_get_max_threads(), reps = 5;
  int64_t N = 64, Cin = 128, Cout = 128, HW = 16, K = 3, stride = 1, pad = 1;
  bool bf16 = false, eigen = false, explicit_im2col = false, winograd = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    char* end = nullptr;
    const long v = std::strtol(argv[++i], &end, 10);
    if (*end != '\0' || v < 0 || (v == 0 && a != "--pad" && a != "--bf16" && a != "--eigen" && a != "--im2col" && a != "--winograd")) usage(argv[0]);
    if (a == "--threads") threads = static_cast<int>(v);
    else if (a == "--reps") reps = static_cast<int>(v);
    else if (a == "--batch") N = v;
    else if (a == "--channels") Cin = Cout = v;
    else if (a == "--in") Cin = v;
    else if (a == "--out") Cout = v;
    else if (a == "--size") HW = v;
    else if (a == "--kernel") K = v;
    else if (a == "--stride") stride = v;
    else if (a == "--pad") pad = v;
    else if (a == "--bf16") bf16 = v != 0;
    else if (a == "--eigen") eigen = v != 0;
    else if (a == "--im2col") explicit_im2col = v != 0;
    else if (a == "--winograd") winograd = v != 0;
    else usage(argv[0]);
  }
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
  std::string load = "?";
  std::ifstream("/proc/loadavg") >> load;
  kernels::PrecisionScope precision(bf16 ? kernels::Precision::kBf16 : kernels::Precision::kFp32);
  kernels::force_eigen_fp32(eigen);
  kernels::force_explicit_im2col(explicit_im2col);
  kernels::disable_winograd(!winograd);
  const char* fp32_engine = kernels::fp32_runs_on_avx512() ? "fp32 (AVX-512)" : "fp32 (Eigen)";
  std::printf("threads %d, reps %d, Scalar %s, SIMD %s, precision %s%s, load average %s\n", threads,
              reps, sizeof(Scalar) == 4 ? "float" : "double", Eigen::SimdInstructionSetsInUse(),
              !bf16 ? fp32_engine : kernels::describe(kernels::bf16_engine()),
              explicit_im2col ? ", im2col copies" : "", load.c_str());

  const kernels::Conv2dDims d = kernels::make_conv2d_dims(N, Cin, HW, HW, Cout, K, K, stride, pad);
  const double flops = 2.0 * d.N * d.Cout * d.out_pixels() * d.col_rows();
  Rng rng(1);

  // (a) The GEMMs of this conv done in one piece: y (M, N) = op(a) (M, K) * op(b) (K, N).
  struct Gemm {
    std::string what;
    int64_t M, K, N;
    bool ta, tb;
  };
  const int64_t rows = d.col_rows(), cols = d.N * d.out_pixels();
  const Gemm gemms[] = {
      {"gemm fwd    W (Cout,CKK) * col (CKK,NP)", Cout, rows, cols, false, false},
      {"gemm bwd-in W^T (CKK,Cout) * dy (Cout,NP)", rows, Cout, cols, true, false},
      {"gemm bwd-w  dy (Cout,NP) * col^T (NP,CKK)", Cout, cols, rows, false, true},
      {"gemm one sample W (Cout,CKK) * col (CKK,P)", Cout, rows, d.out_pixels(), false, false},
  };
  std::printf("GEMM at the conv's shapes (CKK = %lld, NP = %lld):\n", (long long)rows,
              (long long)cols);
  for (const Gemm& g : gemms) {
    Tensor a = randn(rng, Shape{g.M * g.K}), b = randn(rng, Shape{g.K * g.N});
    Tensor y = Tensor::empty(Shape{g.M * g.N});
    report(g.what, 2.0 * g.M * g.K * g.N, time_it(reps, [&] {
             kernels::matmul(y.data(), a.data(), b.data(), g.M, g.K, g.N, g.ta, g.tb, false);
           }));
  }

  // (b) The conv kernels.
  std::printf("conv2d N=%lld Cin=%lld Cout=%lld %lldx%lld kernel %lld stride %lld pad %lld: "
              "%.2f GFLOP forward\n",
              (long long)N, (long long)Cin, (long long)Cout, (long long)HW, (long long)HW, (long long)K,
              (long long)stride, (long long)pad, flops * 1e-9);
  Tensor x = randn(rng, Shape{N, Cin, HW, HW}), w = randn(rng, Shape{Cout, Cin, K, K});
  Tensor b = randn(rng, Shape{Cout}), y = Tensor::empty(Shape{N, Cout, d.Hout, d.Wout});
  Tensor dy = randn(rng, y.shape()), dx = Tensor::empty(x.shape()), dw = Tensor::empty(w.shape());
  auto fwd = [&] { kernels::conv2d_forward(y.data(), x.data(), w.data(), b.data(), d, false); };
  auto bin = [&] { kernels::conv2d_backward_input(dx.data(), dy.data(), w.data(), d, false); };
  auto bw = [&] { kernels::conv2d_backward_weight(dw.data(), dy.data(), x.data(), d, false); };
  report("conv2d_forward", flops, time_it(reps, fwd));
  report("conv2d_backward_input", flops, time_it(reps, bin));
  report("conv2d_backward_weight", flops, time_it(reps, bw));
  report("conv2d fwd+bwd (the three in a row)", 3 * flops, time_it(reps, [&] {
           fwd();
           bin();
           bw();
         }));
  return 0;
}
