// Raw GEMM-based kernels: linear (matmul), conv2d and its two gradients. conv_transpose2d's
// forward is conv2d_backward_input and its gradients are conv2d_forward and
// conv2d_backward_weight with the roles of the tensors swapped, so one kernel family serves
// both layers.
//
// Contracts (all buffers contiguous row-major, caller allocates every output):
//  - `accumulate == false`: the kernel assigns its output; `true`: it adds into it.
//  - fast versions use im2col/col2im (or, on the AVX-512 and native bf16 engines, the input
//    read in place) + a packed GEMM (the project's AVX-512 micro-kernel where the CPU has AVX-512F,
//    else Eigen's) and OpenMP; the `ref` namespace holds plain loop
//    versions with identical semantics that the tests compare against.
//  - precision() selects the fast versions' GEMM operands: fp32, or bf16 (each operand rounded
//    to bf16, products summed in fp32: on AMX tiles or AVX512_BF16 dot products where the CPU
//    has them, else emulated through the fp32 GEMM). The reference versions are always exact
//    fp32 loops.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace sngan::kernels {

enum class Precision { kFp32, kBf16 };
// The process-wide GEMM precision of the fast kernels (default fp32).
Precision precision();
void set_precision(Precision p);
// Sets the precision for its lifetime and restores the previous one.
class PrecisionScope {
 public:
  explicit PrecisionScope(Precision p) : saved_(precision()) { set_precision(p); }
  ~PrecisionScope() { set_precision(saved_); }
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision saved_;
};
// Where the bf16 GEMMs run here: AMX-BF16 tiles where the CPU has them, else AVX512_BF16 dot
// products (vdpbf16ps) where it has those, else emulated (the fp32 GEMM on rounded copies of the
// operands: bf16's numerics, slower than fp32).
enum class Bf16Engine { kAmxTiles, kAvx512Dot, kEmulated };
Bf16Engine bf16_engine();
// "AMX-BF16 tiles", "AVX512_BF16 dot products" or "emulated".
const char* describe(Bf16Engine engine);
// Tests: emulate the bf16 GEMMs even where the CPU has an engine for them.
void force_bf16_emulation(bool on);
// Tests: the AVX512_BF16 dot products even where AMX tiles would serve (no effect without
// AVX512_BF16).
void force_bf16_avx512_dot(bool on);
// Whether fp32 GEMMs (and emulated bf16 ones) run on the AVX-512 micro-kernel here (else on
// Eigen's GEMM).
bool fp32_runs_on_avx512();
// Tests and benchmarks: run the fp32 GEMMs on Eigen even where the AVX-512 kernel serves.
void force_eigen_fp32(bool on);
// Tests and benchmarks: give the conv GEMMs im2col copies (and backward_input its col2im) even
// where the engine would read the conv's input in place (implicit im2col; the AVX-512 fp32
// kernel and the native bf16 engines).
void force_explicit_im2col(bool on);
// Tests, benchmarks and the model's nominal FLOP count: run convs through im2col + GEMM even
// where Winograd F(2x2, 3x3) or F(2x2, 2x2) would serve (fp32 on the AVX-512 kernel, bf16 on
// a native bf16 engine).
void disable_winograd(bool on);
bool winograd_disabled();
// Disables Winograd for its lifetime and restores the previous setting.
class NoWinogradScope {
 public:
  NoWinogradScope() : saved_(winograd_disabled()) { disable_winograd(true); }
  ~NoWinogradScope() { disable_winograd(saved_); }
  NoWinogradScope(const NoWinogradScope&) = delete;
  NoWinogradScope& operator=(const NoWinogradScope&) = delete;

 private:
  bool saved_;
};
// x rounded to the nearest bf16 value as the bf16 GEMMs round their operands: ties to even,
// denormals to a signed zero (as the CPU's bf16 conversion and AMX tiles treat them).
Scalar round_to_bf16(Scalar x);

// Shapes of one conv2d: input x (N, Cin, H, W), weight w (Cout, Cin, KH, KW),
// output y (N, Cout, Hout, Wout) with Hout = (H + 2*pad_h - KH) / stride + 1 and
// Wout = (W + 2*pad_w - KW) / stride + 1: pad_h zero rows above and below, pad_w zero
// columns left and right (Inception's 1x7 convs pad (0, 3), its 7x1 convs (3, 0)).
struct Conv2dDims {
  int64_t N = 0, Cin = 0, H = 0, W = 0;
  int64_t Cout = 0, KH = 0, KW = 0;
  int64_t stride = 1, pad_h = 0, pad_w = 0;
  int64_t Hout = 0, Wout = 0;
  int64_t col_rows() const { return Cin * KH * KW; }
  int64_t out_pixels() const { return Hout * Wout; }
};
// Fills Hout/Wout from the rest; throws sngan::Error if the output would be empty.
Conv2dDims make_conv2d_dims(int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout,
                            int64_t KH, int64_t KW, int64_t stride, int64_t pad_h,
                            int64_t pad_w);
// The same padding on all four sides.
inline Conv2dDims make_conv2d_dims(int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout,
                                   int64_t KH, int64_t KW, int64_t stride, int64_t pad) {
  return make_conv2d_dims(N, Cin, H, W, Cout, KH, KW, stride, pad, pad);
}

// y (M, N) (+)= a (M, K) * b (K, N)  [trans_a: a is stored (K, M); trans_b: b is stored (N, K)]
void matmul(Scalar* y, const Scalar* a, const Scalar* b, int64_t M, int64_t K, int64_t N,
            bool trans_a, bool trans_b, bool accumulate);

// Whether the fast kernels run conv d (forward and both gradients) as Winograd here: fp32 on
// the AVX-512 kernel or bf16 on a native bf16 engine (on a CPU with AVX-512F), at least 32
// input and output channels, and either 3x3 kernels, stride 1,
// padding 1 on even sizes (F(2x2, 3x3)) or 4x4 kernels, stride 2, padding 1 on sizes that are
// multiples of 4 (F(2x2, 2x2) over the kernel's parity phases; the 4x4 stride-2 transposed
// conv's forward is this conv's input gradient). F(2x2, 3x3)'s sums differ from the direct
// ones by more rounding (each output combines transformed values of several products), within
// a few times the direct sum's bound; F(2x2, 2x2) only adds and subtracts pairs. In bf16 the
// transformed operands are rounded (not x and w): about twice the direct bf16 conv's error.
// In fp32 the forward and input gradient take 4x4 output blocks where the sizes allow
// (F(4x4, 3x3) on multiples of 4; F(4x4, 2x2) on multiples of 8, at least 16), and so do the
// weight gradients (the 3x3 convs' on multiples of 4 from 8 up): rounding errors a few times
// larger, still of order 1e-6 relative.
bool winograd_serves(const Conv2dDims& d);

// The multiply-adds the fast kernels compute for one of conv d's three products here: the
// direct conv's, or, where Winograd serves, per output block and channel pair, 16 per 2x2
// block (F(2x2, 3x3)), 36 per 4x4 (F(4x4, 3x3)), 36 per 2x2 (F(2x2, 2x2)) or 100 per 4x4
// (F(4x4, 2x2)).
enum class ConvProduct { kForward, kInputGradient, kWeightGradient };
int64_t conv_multiply_adds(const Conv2dDims& d, ConvProduct product);

// y (N, Cout, Hout, Wout) (+)= conv(x, w) + b; b (Cout) may be null.
void conv2d_forward(Scalar* y, const Scalar* x, const Scalar* w, const Scalar* b,
                    const Conv2dDims& d, bool accumulate);
// dx (N, Cin, H, W) (+)= d<y, dy>/dx = transposed conv of dy (N, Cout, Hout, Wout) with w.
void conv2d_backward_input(Scalar* dx, const Scalar* dy, const Scalar* w, const Conv2dDims& d,
                           bool accumulate);
// dw (Cout, Cin, KH, KW) (+)= d<y, dy>/dw, summed over the batch.
void conv2d_backward_weight(Scalar* dw, const Scalar* dy, const Scalar* x, const Conv2dDims& d,
                            bool accumulate);
// db (Cout) (+)= sum of dy over N, Hout, Wout.
void conv2d_backward_bias(Scalar* db, const Scalar* dy, const Conv2dDims& d, bool accumulate);

namespace ref {
void matmul(Scalar* y, const Scalar* a, const Scalar* b, int64_t M, int64_t K, int64_t N,
            bool trans_a, bool trans_b, bool accumulate);
void conv2d_forward(Scalar* y, const Scalar* x, const Scalar* w, const Scalar* b,
                    const Conv2dDims& d, bool accumulate);
void conv2d_backward_input(Scalar* dx, const Scalar* dy, const Scalar* w, const Conv2dDims& d,
                           bool accumulate);
void conv2d_backward_weight(Scalar* dw, const Scalar* dy, const Scalar* x, const Conv2dDims& d,
                            bool accumulate);
void conv2d_backward_bias(Scalar* db, const Scalar* dy, const Conv2dDims& d, bool accumulate);
}  // namespace ref

}  // namespace sngan::kernels
