// Fast GEMM kernels (gemm_ops.cpp) == reference loops (gemm_ops_ref.cpp) over a table of
// shapes, both accumulate modes, 1 and 2 OpenMP threads; plus an independent check of the
// reference kernels (the adjoint identity) and of make_conv2d_dims.
//
// Tolerance: every output is a sum of `terms` products. Any summation order gives a result
// within gamma_terms * sum|products| of the exact sum (Higham, Accuracy and Stability of
// Numerical Algorithms, section 3.1; gamma_n ~ n * eps / 2). So fast and reference, which sum
// in different orders, differ by at most terms * eps * mag, where mag is the same kernel run
// on |inputs| (plus |sentinel| when accumulating). We allow (terms + 4) * eps * mag: a strict
// bound that never flakes, yet far below the size of one product (~ mag / terms), which is
// what a wrong or missing term would cost.
//
// Winograd F(2x2, 3x3) and F(2x2, 2x2) (where winograd_serves) sum transformed values instead of
// the products themselves: each output combines products of sums of inputs, whose magnitudes
// the direct sum's mag does not bound (terms that cancel exactly still round). Their errors
// measured up to 2.8 times the bound above (F(2x2, 3x3)'s weight gradients on 2x2 maps; F(2x2,
// 2x2)'s up to 1.1 times, on 4x4 maps); those shapes get 4 times it, still far below one
// product for the shapes here.
//
// In bf16, Winograd rounds its transformed operands rather than the conv's inputs, so rounding
// the inputs does not give the reference its operands. On inputs that are multiples of 1/2 in
// [-4, 4] every transformed value (a signed sum of at most 9 inputs, times 1/4 at most) has at
// most 8 significant bits: exact in bf16, the same products as the reference's. Those shapes
// get such inputs in bf16; how far bf16 Winograd strays on general inputs is checked apart
// (Bf16WinogradErrorStaysNearTheDirectBf16Conv).
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "core/tensor/cpu_info.h"
#include "core/tensor/kernels/gemm_ops.h"
#include "core/tensor/rng.h"

namespace sngan::kernels {
namespace {

using Vec = std::vector<Scalar>;

Vec randn(Rng& rng, int64_t n) {
  Tensor t = Tensor::empty(Shape{n});
  rng.fill_normal(t);
  return t.to_vector();
}

// n values drawn from a normal distribution, each rounded to a multiple of 1/2 in [-4, 4].
Vec half_steps(Rng& rng, int64_t n) {
  Vec v = randn(rng, n);
  for (Scalar& s : v) s = std::clamp<Scalar>(std::round(2 * s), -8, 8) / 2;
  return v;
}

Vec abs_of(const Vec& v) {
  Vec a(v.size());
  std::transform(v.begin(), v.end(), a.begin(), [](Scalar s) { return std::abs(s); });
  return a;
}

// Runs `fast` and `reference` on copies of `sentinel` and checks they agree elementwise within
// the bound described above; `magnitude` is the reference kernel on |inputs| (assigning).
// With accumulate, also checks the reference really added to the sentinel.
template <typename Fast, typename Ref>
void expect_match(const std::string& what, const Vec& sentinel, bool accumulate, int64_t terms,
                  Fast fast, Ref reference, const Vec& magnitude, double slack = 1) {
  Vec got = sentinel, want = sentinel, assigned = sentinel;
  fast(got.data(), accumulate);
  reference(want.data(), accumulate);
  reference(assigned.data(), false);
  const double eps = std::numeric_limits<Scalar>::epsilon();
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double mag = magnitude[i] + (accumulate ? std::abs(sentinel[i]) : 0.0);
    const double tol = slack * (terms + 4) * eps * mag + std::numeric_limits<Scalar>::min();
    if (std::abs(double(got[i]) - want[i]) > tol && bad++ < 5)
      ADD_FAILURE() << what << " accumulate=" << accumulate << " at " << i << ": fast "
                    << got[i] << ", reference " << want[i] << ", tolerance " << tol;
    const double expect = accumulate ? double(sentinel[i]) + assigned[i] : assigned[i];
    if (std::abs(expect - want[i]) > tol && bad++ < 5)
      ADD_FAILURE() << what << " reference accumulate=" << accumulate << " at " << i << ": "
                    << want[i] << " vs " << expect;
  }
  EXPECT_EQ(bad, 0) << what;
}

struct ConvCase {
  int64_t N, Cin, H, W, Cout, KH, KW, stride, pad;
  int64_t pad_w = -1;  // columns' padding when >= 0 (then `pad` pads the rows only)
  int64_t pw() const { return pad_w >= 0 ? pad_w : pad; }
};

Conv2dDims dims_of(const ConvCase& c) {
  return make_conv2d_dims(c.N, c.Cin, c.H, c.W, c.Cout, c.KH, c.KW, c.stride, c.pad, c.pw());
}

std::string name(const ConvCase& c) {
  return "N" + std::to_string(c.N) + " Cin" + std::to_string(c.Cin) + " " + std::to_string(c.H) +
         "x" + std::to_string(c.W) + " Cout" + std::to_string(c.Cout) + " k" +
         std::to_string(c.KH) + "x" + std::to_string(c.KW) + " s" + std::to_string(c.stride) +
         " p" + std::to_string(c.pad) + "," + std::to_string(c.pw()) + " threads" +
         std::to_string(omp_get_max_threads());
}

const ConvCase kConvCases[] = {
    // N, Cin, H, W, Cout, KH, KW, stride, pad
    {1, 1, 5, 5, 1, 1, 1, 1, 0},     // 1x1, everything 1: the pointwise path
    {3, 4, 7, 5, 6, 1, 1, 1, 0},     // pointwise, batch > 1, H != W
    {6, 5, 3, 3, 4, 1, 1, 1, 0},     // pointwise, tiny maps: several samples per GEMM
    {3, 6, 8, 8, 5, 1, 1, 2, 0},     // 1x1 stride 2 (needs im2col)
    {2, 4, 5, 5, 3, 1, 1, 1, 1},     // 1x1 pad 1
    {1, 1, 5, 5, 1, 3, 3, 1, 1},     // 3x3, single channel
    {2, 3, 5, 5, 4, 3, 3, 1, 1},     // 3x3 "same"
    {1, 3, 7, 7, 2, 3, 3, 1, 0},     // 3x3 valid
    {4, 2, 7, 7, 3, 3, 3, 2, 1},     // 3x3 stride 2, odd size
    {2, 1, 9, 9, 1, 3, 3, 2, 0},     // stride 2 pad 0
    {1, 2, 3, 3, 2, 3, 3, 1, 1},     // kernel as large as the input
    {3, 5, 5, 7, 2, 4, 4, 2, 1},     // 4x4 stride 2 (down-sampling), odd sizes
    {2, 2, 6, 6, 3, 4, 4, 2, 1},     // 4x4 stride 2, even size
    {5, 3, 4, 4, 8, 4, 4, 1, 0},     // 4x4 stride 1 valid
    {2, 4, 5, 7, 3, 3, 1, 1, 1},     // non-square kernel
    {2, 3, 7, 5, 2, 1, 3, 2, 0},     // non-square kernel, stride 2
    {2, 3, 8, 7, 2, 3, 3, 3, 1},     // stride 3
    {3, 2, 10, 9, 3, 2, 2, 3, 0},    // stride 3, even kernel, pad 0
    {2, 3, 16, 17, 2, 3, 3, 3, 1},   // stride 3, outputs wide enough for window copies
    {1, 2, 20, 14, 3, 5, 5, 3, 2},   // stride 3, 5x5 pad 2
    {2, 2, 5, 6, 2, 3, 3, 1, 2},     // pad 2: rows entirely in the padding
    {7, 3, 4, 4, 5, 3, 3, 1, 1},     // small maps, odd batch: several samples per GEMM
    {4, 16, 12, 12, 24, 3, 3, 1, 1}, // blocked GEMM sizes
    {2, 3, 32, 32, 4, 3, 3, 1, 1},   // large maps: one sample per GEMM
    // One and two output channels (a grey or two-channel output layer): on AVX-512 the
    // products of at most 12 rows read the input in place, the weight gradient as dot products.
    {2, 5, 16, 16, 1, 3, 3, 1, 1},
    {3, 4, 8, 8, 2, 4, 4, 2, 1},
    {2, 8, 32, 32, 4, 1, 1, 1, 0},   // large pointwise: GEMM straight on the input
    // Many input channels: im2col/GEMM in several channel blocks (at 64K-element blocks).
    {2, 64, 16, 16, 8, 3, 3, 1, 1},
    {2, 80, 12, 12, 4, 4, 4, 2, 1},
    {4, 300, 8, 8, 3, 1, 1, 1, 0},
    // Enough work for threads: one sample (GEMMs split over threads), several (chunks).
    {1, 32, 16, 16, 32, 3, 3, 1, 1},
    {6, 24, 4, 4, 40, 3, 3, 1, 1},
    // Weights packed once for several chunks in channel blocks; on 3 threads (more than the
    // chunks) backward_input's GEMM splits its rows over the threads.
    {2, 64, 16, 16, 64, 3, 3, 1, 1},
    // Rectangular kernels with rectangular "same" padding (Inception-v3's factorised convs:
    // 1x7 pad (0, 3), 7x1 pad (3, 0), 1x3 pad (0, 1), 3x1 pad (1, 0)), on square and odd maps.
    {2, 6, 17, 17, 5, 1, 7, 1, 0, 3},
    {2, 6, 17, 17, 5, 7, 1, 1, 3, 0},
    {3, 4, 8, 8, 6, 1, 3, 1, 0, 1},
    {3, 4, 8, 8, 6, 3, 1, 1, 1, 0},
    {1, 5, 9, 6, 3, 1, 7, 1, 0, 3},   // narrower than the kernel: most taps in the padding
    {1, 5, 6, 9, 3, 7, 1, 1, 3, 0},
    {5, 3, 3, 3, 4, 1, 3, 1, 0, 1},   // tiny maps: the offset-table im2col
    {2, 3, 9, 11, 2, 3, 3, 2, 2, 1},  // unequal pads with stride 2
    {2, 3, 9, 11, 2, 5, 3, 1, 0, 2},
    // Inception's stride-2 valid convs on odd sizes (299 -> 149, 35 -> 17, 17 -> 8).
    {1, 3, 35, 35, 4, 3, 3, 2, 0},
    {2, 8, 17, 17, 6, 3, 3, 2, 0},
    // Shapes whose im2col matrix the AVX-512 and native bf16 engines read in place (output as wide as
    // the (phase) plane, pixels a multiple of 16; several above qualify too): stride 2 on even
    // sizes, one sample per chunk (its GEMMs split over the threads, in the view's columns
    // or rows), more than one 1024-deep block in either GEMM, 16-pixel groups that span rows,
    // and "same" padding on one side only.
    {3, 8, 8, 8, 6, 4, 4, 2, 1},
    {2, 5, 16, 16, 7, 4, 4, 2, 1},
    {1, 40, 16, 16, 40, 4, 4, 2, 1},
    {2, 3, 32, 48, 4, 3, 3, 1, 1},
    {2, 120, 8, 8, 16, 3, 3, 1, 1},
    {3, 6, 4, 12, 5, 3, 3, 1, 1},
    {2, 4, 8, 16, 3, 1, 3, 1, 0, 1},
    // The same on backward_input's phase GEMMs, which need 32 input channels (16 in bf16): the
    // one-sided padding, groups spanning rows, and stride 2 on odd sizes wider than 32 (the
    // phase split's second 16-column block, rows past the input).
    {2, 32, 8, 16, 3, 1, 3, 1, 0, 1},
    {3, 32, 4, 12, 5, 3, 3, 1, 1},
    {2, 4, 39, 39, 3, 3, 3, 2, 1},
    {1, 32, 39, 39, 3, 3, 3, 2, 1},
    // Weights large enough to be packed (and rearranged into phases) by all threads.
    {2, 64, 16, 16, 64, 4, 4, 2, 1},
    // Winograd F(2x2, 3x3) in fp32 on AVX-512 (3x3 stride 1 pad 1, even sizes, 32 channels
    // and more): channel counts off the 12-row tiles, an odd batch (a short last chunk),
    // non-square maps (3 tile columns), 2x2 maps (one tile per sample), and enough samples
    // for 10 forward chunks and 3 weight-gradient chunks in 2 uneven groups.
    {3, 40, 8, 8, 44, 3, 3, 1, 1},
    {10, 32, 16, 16, 32, 3, 3, 1, 1},
    {2, 36, 4, 6, 32, 3, 3, 1, 1},
    {5, 33, 2, 2, 35, 3, 3, 1, 1},
    {3, 32, 4, 4, 36, 3, 3, 1, 1},  // maps 4x4: the phase split and merge 4 rows per permute
    {2, 32, 6, 4, 32, 3, 3, 1, 1},  // rows 4 wide, 6 of them: the split and merge row by row
    // F(4x4, 3x3) in fp32 (sizes multiples of 4): maps 8x12 (3 tile columns, stride-4 phases
    // row by row), an odd batch; 4x4, 8x8, 16x16 and 64x64 maps above.
    {3, 32, 8, 12, 36, 3, 3, 1, 1},
    // Winograd F(2x2, 2x2) for 4x4 stride-2 pad-1 convs (sizes multiples of 4, 32 channels and
    // more; the transposed conv's forward is its backward_input): an odd batch on a 2x2 tile
    // grid, one tile per sample, non-square maps (3 tile columns), and 12 samples (3 forward
    // chunks, 2 weight-gradient chunks); 6x10 maps (even, not multiples of 4) stay direct.
    {3, 40, 8, 8, 44, 4, 4, 2, 1},
    {5, 33, 4, 4, 35, 4, 4, 2, 1},
    {2, 36, 8, 12, 32, 4, 4, 2, 1},
    {12, 32, 16, 16, 40, 4, 4, 2, 1},
    {2, 40, 6, 10, 36, 4, 4, 2, 1},
    {2, 32, 12, 8, 32, 4, 4, 2, 1},  // 12 rows of 8: stride-4 phases row by row, not 8 rows per step
    // F(4x4, 2x2) in fp32 (sizes multiples of 8, at least 16): non-square maps 24 and 40 wide
    // (stride-8 phases row by row), an odd batch, and maps 32 wide (two values per plane per
    // 16-float step).
    {3, 36, 16, 24, 32, 4, 4, 2, 1},
    {2, 32, 32, 40, 34, 4, 4, 2, 1},
    // Past the GEMMs' blocks with Winograd operands written in packed form: 1024 tiles per chunk
    // (two 512-column blocks), and 4 x 264 deep (two 1024-deep blocks in bf16, five in fp32).
    {1, 32, 64, 64, 32, 3, 3, 1, 1},
    {2, 264, 8, 8, 32, 4, 4, 2, 1},
};

Vec rounded_to_bf16(const Vec& v) {
  Vec r(v.size());
  std::transform(v.begin(), v.end(), r.begin(), [](Scalar s) { return round_to_bf16(s); });
  return r;
}

// Sets one of the kernels' test switches (force_bf16_emulation, force_bf16_avx512_dot,
// force_eigen_fp32, force_explicit_im2col) for its lifetime.
class Forced {
 public:
  explicit Forced(void (*set)(bool)) : set_(set) { set_(true); }
  ~Forced() { set_(false); }
  Forced(const Forced&) = delete;
  Forced& operator=(const Forced&) = delete;

 private:
  void (*set_)(bool);
};

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

// The fast conv kernels at `precision` against the reference on the operands the fast GEMMs
// see: as given in fp32, rounded to bf16 in bf16 (the bias is added in fp32 either way), and
// for bf16 Winograd on inputs whose transforms bf16 holds exactly (see the top). Products of
// bf16 values are exact in fp32, so the same summation-order bound holds.
void check_conv_kernels(Precision precision, uint64_t seed) {
  PrecisionScope scope(precision);
  const bool bf16 = precision == Precision::kBf16;
  auto seen = [&](const Vec& v) { return bf16 ? rounded_to_bf16(v) : v; };
  Rng rng(seed);
  for (int threads : {1, 2, 3}) {  // 3: more threads than chunks, GEMMs split over them
    ThreadCount guard(threads);
    for (const ConvCase& c : kConvCases) {
      const Conv2dDims d = dims_of(c);
      const int64_t xn = d.N * d.Cin * d.H * d.W, wn = d.Cout * d.col_rows();
      const int64_t yn = d.N * d.Cout * d.out_pixels();
      const bool exact_transforms = bf16 && winograd_serves(d);
      auto draw = [&](int64_t n) { return exact_transforms ? half_steps(rng, n) : randn(rng, n); };
      const Vec x = draw(xn), w = draw(wn), b = randn(rng, d.Cout);
      const Vec dy = draw(yn);
      const Vec xs = seen(x), ws = seen(w), dys = seen(dy);
      const Vec ax = abs_of(xs), aw = abs_of(ws), ab = abs_of(b), ady = abs_of(dys);
      const std::string what = name(c) + (bf16 ? " bf16" : "");
      const double slack = winograd_serves(d) ? 4 : 1;  // see the tolerance above
      for (bool acc : {false, true}) {
        Vec mag(static_cast<size_t>(yn));
        ref::conv2d_forward(mag.data(), ax.data(), aw.data(), ab.data(), d, false);
        expect_match(
            "forward " + what, randn(rng, yn), acc, d.col_rows() + 1,
            [&](Scalar* y, bool a) { conv2d_forward(y, x.data(), w.data(), b.data(), d, a); },
            [&](Scalar* y, bool a) { ref::conv2d_forward(y, xs.data(), ws.data(), b.data(), d, a); },
            mag, slack);
        ref::conv2d_forward(mag.data(), ax.data(), aw.data(), nullptr, d, false);
        expect_match(
            "forward no bias " + what, randn(rng, yn), acc, d.col_rows(),
            [&](Scalar* y, bool a) { conv2d_forward(y, x.data(), w.data(), nullptr, d, a); },
            [&](Scalar* y, bool a) { ref::conv2d_forward(y, xs.data(), ws.data(), nullptr, d, a); },
            mag, slack);

        mag.assign(static_cast<size_t>(xn), 0);
        ref::conv2d_backward_input(mag.data(), ady.data(), aw.data(), d, false);
        expect_match(
            "backward_input " + what, randn(rng, xn), acc, d.Cout * d.KH * d.KW,
            [&](Scalar* dx, bool a) { conv2d_backward_input(dx, dy.data(), w.data(), d, a); },
            [&](Scalar* dx, bool a) { ref::conv2d_backward_input(dx, dys.data(), ws.data(), d, a); },
            mag, slack);

        mag.assign(static_cast<size_t>(wn), 0);
        ref::conv2d_backward_weight(mag.data(), ady.data(), ax.data(), d, false);
        expect_match(
            "backward_weight " + what, randn(rng, wn), acc, d.N * d.out_pixels(),
            [&](Scalar* dw, bool a) { conv2d_backward_weight(dw, dy.data(), x.data(), d, a); },
            [&](Scalar* dw, bool a) {
              ref::conv2d_backward_weight(dw, dys.data(), xs.data(), d, a);
            },
            mag, slack);

        mag.assign(static_cast<size_t>(d.Cout), 0);
        ref::conv2d_backward_bias(mag.data(), ady.data(), d, false);
        expect_match(
            "backward_bias " + what, randn(rng, d.Cout), acc, d.N * d.out_pixels(),
            [&](Scalar* db, bool a) { conv2d_backward_bias(db, dy.data(), d, a); },
            [&](Scalar* db, bool a) { ref::conv2d_backward_bias(db, dy.data(), d, a); }, mag);
      }
    }
  }
}

struct MatmulCase {
  int64_t M, K, N;
};
// Small ones, and large enough to split over threads along N (96x130) or M (150x90).
const MatmulCase kMatmulCases[] = {{1, 1, 1},    {3, 5, 7},     {17, 33, 9}, {1, 40, 6},
                                   {64, 48, 80}, {70, 129, 33}, {4, 0, 3},   {96, 200, 130},
                                   {150, 100, 90}};
// And past the packed GEMMs' blocks, with edges: native bf16 (64 rows, 1024 deep, 512
// columns), fp32 on AVX-512 (12-row by 32-column tiles, 256 deep, 512 columns).
const MatmulCase kBlockedMatmulCases[] = {
    {67, 1100, 40}, {20, 70, 530}, {130, 2100, 33}, {25, 257, 1090}, {13, 513, 31}};

// matmul at `precision` against the reference on the operands the fast GEMM sees (see
// check_conv_kernels).
void check_matmul(Precision precision, bool blocked_cases, uint64_t seed) {
  PrecisionScope scope(precision);
  const bool bf16 = precision == Precision::kBf16;
  std::vector<MatmulCase> cases(std::begin(kMatmulCases), std::end(kMatmulCases));
  if (blocked_cases) cases.insert(cases.end(), std::begin(kBlockedMatmulCases), std::end(kBlockedMatmulCases));
  Rng rng(seed);
  for (int threads : {1, 2}) {
    ThreadCount guard(threads);
    for (const MatmulCase& c : cases) {
      const Vec a = randn(rng, c.M * c.K), b = randn(rng, c.K * c.N);
      const Vec as = bf16 ? rounded_to_bf16(a) : a, bs = bf16 ? rounded_to_bf16(b) : b;
      const Vec aa = abs_of(as), ab = abs_of(bs);
      for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
          // The same buffers read as stored (M, K)/(K, M) and (K, N)/(N, K).
          Vec mag(static_cast<size_t>(c.M * c.N));
          ref::matmul(mag.data(), aa.data(), ab.data(), c.M, c.K, c.N, ta, tb, false);
          const std::string what = "matmul M" + std::to_string(c.M) + " K" + std::to_string(c.K) +
                                   " N" + std::to_string(c.N) + " trans_a=" + std::to_string(ta) +
                                   " trans_b=" + std::to_string(tb) +
                                   " threads=" + std::to_string(threads) + (bf16 ? " bf16" : "");
          for (bool acc : {false, true}) {
            expect_match(
                what, randn(rng, c.M * c.N), acc, c.K,
                [&](Scalar* y, bool s) {
                  matmul(y, a.data(), b.data(), c.M, c.K, c.N, ta, tb, s);
                },
                [&](Scalar* y, bool s) {
                  ref::matmul(y, as.data(), bs.data(), c.M, c.K, c.N, ta, tb, s);
                },
                mag);
          }
        }
      }
    }
  }
}

// fp32 on the CPU's own engine (the AVX-512 micro-kernel where it has AVX-512F), and on Eigen.
TEST(GemmKernels, ConvFastMatchesReference) { check_conv_kernels(Precision::kFp32, 1234); }
TEST(GemmKernels, MatmulFastMatchesReference) { check_matmul(Precision::kFp32, true, 99); }

TEST(GemmKernels, EigenFp32MatchesReference) {
  Forced eigen(force_eigen_fp32);
  check_matmul(Precision::kFp32, true, 98);
  check_conv_kernels(Precision::kFp32, 1233);
}

// The im2col copies and col2im that the AVX-512 and native bf16 engines skip where they read the input
// in place (implicit im2col), on every shape (Winograd off), in both precisions.
TEST(GemmKernels, ConvWithIm2colCopiesMatchesReference) {
  Forced copies(force_explicit_im2col);
  Forced direct(disable_winograd);
  check_conv_kernels(Precision::kFp32, 1235);
  check_conv_kernels(Precision::kBf16, 4323);
}

// The im2col + GEMM path on the shapes where Winograd F(2x2, 3x3) would serve.
TEST(GemmKernels, ConvWithoutWinogradMatchesReference) {
  Forced direct(disable_winograd);
  check_conv_kernels(Precision::kFp32, 1236);
}

// Winograd's chunks are planned for two threads whatever the thread count: the forward and both
// gradients give the same bits on 1, 2 and 3 threads, for F(2x2, 3x3) and F(2x2, 2x2).
void check_bits_across_thread_counts(const Conv2dDims& d) {
  SCOPED_TRACE("KH " + std::to_string(d.KH) + " stride " + std::to_string(d.stride));
  ASSERT_TRUE(!fp32_runs_on_avx512() || winograd_serves(d));
  Rng rng(77);
  const Vec x = randn(rng, d.N * d.Cin * d.H * d.W), w = randn(rng, d.Cout * d.col_rows());
  const Vec b = randn(rng, d.Cout), dy = randn(rng, d.N * d.Cout * d.out_pixels());
  std::vector<Vec> ys, dxs, dws;
  for (int threads : {1, 2, 3}) {
    ThreadCount guard(threads);
    Vec y(dy.size()), dx(x.size()), dw(w.size());
    conv2d_forward(y.data(), x.data(), w.data(), b.data(), d, false);
    conv2d_backward_input(dx.data(), dy.data(), w.data(), d, false);
    conv2d_backward_weight(dw.data(), dy.data(), x.data(), d, false);
    ys.push_back(y), dxs.push_back(dx), dws.push_back(dw);
  }
  for (size_t i = 1; i < ys.size(); ++i) {
    EXPECT_EQ(ys[i], ys[0]) << "forward, thread count " << i + 1 << " vs 1";
    EXPECT_EQ(dxs[i], dxs[0]) << "backward_input, thread count " << i + 1 << " vs 1";
    EXPECT_EQ(dws[i], dws[0]) << "backward_weight, thread count " << i + 1 << " vs 1";
  }
}
TEST(GemmKernels, WinogradBitsDoNotDependOnTheThreadCount) {
  check_bits_across_thread_counts(make_conv2d_dims(10, 40, 16, 16, 36, 3, 3, 1, 1));
  check_bits_across_thread_counts(make_conv2d_dims(10, 40, 16, 16, 36, 4, 4, 2, 1));
}
TEST(GemmKernels, Bf16WinogradBitsDoNotDependOnTheThreadCount) {
  PrecisionScope scope(Precision::kBf16);
  if (bf16_engine() == Bf16Engine::kEmulated) GTEST_SKIP() << "no bf16 engine on this CPU (Winograd stays fp32-only)";
  check_bits_across_thread_counts(make_conv2d_dims(10, 40, 16, 16, 36, 3, 3, 1, 1));
  check_bits_across_thread_counts(make_conv2d_dims(10, 40, 16, 16, 36, 4, 4, 2, 1));
}

// The Winograd convs keep their transformed operands in per-thread buffers from call to call.
// In bf16 the tiles' operands are padded to depths of 32 (40 channels: 24 padding depths), and
// whatever a previous call left there must not reach the next call's sums: a conv whose input
// is all NaN, then one with 40 channels on the same thread, must give the reference's (finite)
// numbers, in all three products and both Winograd forms.
TEST(GemmKernels, Bf16WinogradBuffersKeepNothingFromThePreviousCall) {
  if (bf16_engine() == Bf16Engine::kEmulated) GTEST_SKIP() << "no bf16 engine on this CPU (Winograd stays fp32-only)";
  PrecisionScope scope(Precision::kBf16);
  const ThreadCount one_thread(1);
  Rng rng(57);
  for (int64_t k : {3, 4}) {
    const int64_t stride = k == 3 ? 1 : 2;
    const Conv2dDims poisoned = make_conv2d_dims(4, 64, 16, 16, 64, k, k, stride, 1);
    const Conv2dDims d = make_conv2d_dims(4, 40, 16, 16, 40, k, k, stride, 1);
    ASSERT_TRUE(winograd_serves(poisoned) && winograd_serves(d));
    const Vec nan_x(poisoned.N * poisoned.Cin * poisoned.H * poisoned.W, std::numeric_limits<Scalar>::quiet_NaN());
    const Vec nan_dy(poisoned.N * poisoned.Cout * poisoned.out_pixels(), std::numeric_limits<Scalar>::quiet_NaN());
    const Vec pw = randn(rng, poisoned.Cout * poisoned.col_rows());
    Vec sink(std::max(nan_x.size(), nan_dy.size())), sink_w(pw.size());
    const Vec x = half_steps(rng, d.N * d.Cin * d.H * d.W), w = half_steps(rng, d.Cout * d.col_rows());
    const Vec dy = half_steps(rng, d.N * d.Cout * d.out_pixels());
    std::array<Vec, 3> got{Vec(dy.size()), Vec(x.size()), Vec(w.size())}, want = got;
    ref::conv2d_forward(want[0].data(), x.data(), w.data(), nullptr, d, false);
    ref::conv2d_backward_input(want[1].data(), dy.data(), w.data(), d, false);
    ref::conv2d_backward_weight(want[2].data(), dy.data(), x.data(), d, false);
    conv2d_forward(sink.data(), nan_x.data(), pw.data(), nullptr, poisoned, false);
    conv2d_forward(got[0].data(), x.data(), w.data(), nullptr, d, false);
    conv2d_backward_input(sink.data(), nan_dy.data(), pw.data(), poisoned, false);
    conv2d_backward_input(got[1].data(), dy.data(), w.data(), d, false);
    conv2d_backward_weight(sink_w.data(), nan_dy.data(), nan_x.data(), poisoned, false);
    conv2d_backward_weight(got[2].data(), dy.data(), x.data(), d, false);
    for (size_t p = 0; p < 3; ++p)
      for (size_t i = 0; i < got[p].size(); ++i)
        ASSERT_NEAR(got[p][i], want[p][i], 1e-5 * (1 + std::fabs(want[p][i])))
            << "kernel " << k << ", product " << p << ", element " << i;
  }
}

// Relative RMS distance of `got` from `exact`.
double relative_rms(const Vec& got, const Vec& exact) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err += (double(got[i]) - exact[i]) * (double(got[i]) - exact[i]);
    norm += double(exact[i]) * exact[i];
  }
  return std::sqrt(err / norm);
}

// bf16 Winograd rounds its transformed operands where the direct bf16 conv rounds the inputs
// and weights. A transformed value sums several inputs (or weights), and its rounding error
// scales with that sum, so on general (normal) inputs its relative RMS error measured 1.7-2.0
// times the direct bf16 conv's (about 4e-3 against 2.3e-3, AMD EPYC Zen 4) in all three
// products; at most 3 times passes. And it must miss by far more than fp32 Winograd (it really
// rounds).
TEST(GemmKernels, Bf16WinogradErrorStaysNearTheDirectBf16Conv) {
  if (bf16_engine() == Bf16Engine::kEmulated) GTEST_SKIP() << "no bf16 engine on this CPU (Winograd stays fp32-only)";
  Rng rng(31);
  for (const Conv2dDims& d : {make_conv2d_dims(6, 64, 8, 8, 48, 3, 3, 1, 1), make_conv2d_dims(6, 48, 16, 16, 64, 4, 4, 2, 1)}) {
    const Vec x = randn(rng, d.N * d.Cin * d.H * d.W), w = randn(rng, d.Cout * d.col_rows());
    const Vec dy = randn(rng, d.N * d.Cout * d.out_pixels());
    // The three products of conv d: forward, input gradient, weight gradient.
    auto products = [&](auto conv) {
      std::array<Vec, 3> out{Vec(dy.size()), Vec(x.size()), Vec(w.size())};
      conv(out);
      return out;
    };
    auto fast = [&](std::array<Vec, 3>& out) {
      conv2d_forward(out[0].data(), x.data(), w.data(), nullptr, d, false);
      conv2d_backward_input(out[1].data(), dy.data(), w.data(), d, false);
      conv2d_backward_weight(out[2].data(), dy.data(), x.data(), d, false);
    };
    const auto exact = products([&](std::array<Vec, 3>& out) {
      ref::conv2d_forward(out[0].data(), x.data(), w.data(), nullptr, d, false);
      ref::conv2d_backward_input(out[1].data(), dy.data(), w.data(), d, false);
      ref::conv2d_backward_weight(out[2].data(), dy.data(), x.data(), d, false);
    });
    const auto fp32_winograd = products(fast);
    std::array<Vec, 3> winograd, direct;
    {
      PrecisionScope scope(Precision::kBf16);
      ASSERT_TRUE(winograd_serves(d));
      winograd = products(fast);
      NoWinogradScope off;
      direct = products(fast);
    }
    const char* names[3] = {"forward", "backward_input", "backward_weight"};
    for (size_t k = 0; k < 3; ++k) {
      const double e_winograd = relative_rms(winograd[k], exact[k]), e_direct = relative_rms(direct[k], exact[k]);
      SCOPED_TRACE(std::string(names[k]) + " KH " + std::to_string(d.KH) + ": bf16 Winograd " +
                   std::to_string(e_winograd) + ", direct bf16 " + std::to_string(e_direct));
      std::printf("[ note     ] %s KH %lld: relative RMS error bf16 Winograd %.2e, direct bf16 %.2e, fp32 Winograd %.2e\n",
                  names[k], static_cast<long long>(d.KH), e_winograd, e_direct, relative_rms(fp32_winograd[k], exact[k]));
      EXPECT_LT(e_winograd, 3 * e_direct);
      EXPECT_GT(e_winograd, 100 * relative_rms(fp32_winograd[k], exact[k]));
    }
  }
}

// Each element of C goes through the same sums wherever the row blocks and threads split C:
// one GEMM equals the same GEMM in two row blocks (split at row 17, not a 12-row tile's edge) and
// the same GEMM on two threads, bit for bit, on the engine this CPU runs.
TEST(GemmKernels, Fp32GemmBitsDoNotDependOnTheSplit) {
  ThreadCount one(1);
  Rng rng(5);
  const int64_t M = 41, K = 700, N = 300;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const Vec a = randn(rng, M * K), b = randn(rng, K * N), start = randn(rng, M * N);
      for (bool acc : {false, true}) {
        Vec whole = start, parts = start, threaded = start;
        matmul(whole.data(), a.data(), b.data(), M, K, N, ta, tb, acc);
        const int64_t m1 = 17;  // rows [0, m1) and [m1, M); a's rows are its columns if ta
        if (ta) {
          // op(a) rows are a's columns: split via a copy of each column block.
          Vec a1(static_cast<size_t>(K * m1)), a2(static_cast<size_t>(K * (M - m1)));
          for (int64_t k = 0; k < K; ++k)
            for (int64_t i = 0; i < M; ++i)
              (i < m1 ? a1[k * m1 + i] : a2[k * (M - m1) + i - m1]) = a[k * M + i];
          matmul(parts.data(), a1.data(), b.data(), m1, K, N, true, tb, acc);
          matmul(parts.data() + m1 * N, a2.data(), b.data(), M - m1, K, N, true, tb, acc);
        } else {
          matmul(parts.data(), a.data(), b.data(), m1, K, N, false, tb, acc);
          matmul(parts.data() + m1 * N, a.data() + m1 * K, b.data(), M - m1, K, N, false, tb, acc);
        }
        {
          ThreadCount two(2);
          matmul(threaded.data(), a.data(), b.data(), M, K, N, ta, tb, acc);
        }
        const std::string what = "ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
                                 " accumulate=" + std::to_string(acc);
        EXPECT_EQ(whole, parts) << what;
        EXPECT_EQ(whole, threaded) << what;
      }
    }
  }
}

// bf16 on the CPU's own engine (AMX tiles, else AVX512_BF16 dot products, where it has them),
// on AVX512_BF16 dot products where AMX tiles would serve, and emulated.
TEST(GemmKernels, Bf16ConvMatchesReferenceOnRoundedOperands) {
  check_conv_kernels(Precision::kBf16, 4321);
}
TEST(GemmKernels, Bf16MatmulMatchesReferenceOnRoundedOperands) {
  check_matmul(Precision::kBf16, true, 77);
}
TEST(GemmKernels, Avx512Bf16DotProductsMatchReferenceOnRoundedOperands) {
  Forced dot(force_bf16_avx512_dot);
  if (bf16_engine() != Bf16Engine::kAvx512Dot)
    GTEST_SKIP() << "no AVX512_BF16 (with AVX512BW) on " << cpu_info().model;
  check_matmul(Precision::kBf16, true, 79);
  check_conv_kernels(Precision::kBf16, 4323);
}
TEST(GemmKernels, EmulatedBf16MatchesReferenceOnRoundedOperands) {
  Forced emulated(force_bf16_emulation);
  check_matmul(Precision::kBf16, true, 78);
  check_conv_kernels(Precision::kBf16, 4322);
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

// <conv(x, w), g> == <x, backward_input(g, w)> == <w, backward_weight(g, x)>: all three are
// the same triple sum of w * x * g, so this checks the reference kernels against each other
// without the fast ones. Dot products run in double; each reference output sums at most
// `terms` products, hence the same kind of bound as above on sum |w x g|.
// Values worked out by hand from bf16's 8 significant bits (7 stored).
TEST(GemmKernels, RoundToBf16RoundsToNearestEven) {
  const float step = std::ldexp(1.0f, -7);  // bf16's spacing in [1, 2)
  EXPECT_EQ(round_to_bf16(1.0f), 1.0f);
  EXPECT_EQ(round_to_bf16(1.0f + step), 1.0f + step);          // representable: unchanged
  EXPECT_EQ(round_to_bf16(1.0f + 0.25f * step), 1.0f);         // below half: down
  EXPECT_EQ(round_to_bf16(1.0f + 0.75f * step), 1.0f + step);  // above half: up
  EXPECT_EQ(round_to_bf16(1.0f + 0.5f * step), 1.0f);          // tie: to the even 1.0
  EXPECT_EQ(round_to_bf16(1.0f + 1.5f * step), 1.0f + 2 * step);  // tie: to the even 1 + 2 step
  EXPECT_EQ(round_to_bf16(-3.0f - 0.75f * 2 * step), -3.0f - 2 * step);  // [2, 4): spacing 2 step
  EXPECT_EQ(round_to_bf16(0.1f), 0.10009765625f);  // 0.1 = 1.6 * 2^-4 -> 1.6015625 * 2^-4
  EXPECT_TRUE(std::isinf(round_to_bf16(std::numeric_limits<float>::max())));  // past bf16's max
  EXPECT_TRUE(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(round_to_bf16(std::numeric_limits<float>::denorm_min()), 0.0f);
  EXPECT_TRUE(std::signbit(round_to_bf16(-std::numeric_limits<float>::denorm_min())));
}

// bf16 really rounds: on operands with more than 8 significant bits it misses the fp32 product
// by far more than fp32 summation error could, and splitting the work over threads changes no
// bit: a product in one depth block, one over two (K > 1024) accumulating into C, and a conv
// whose chunks share packed weights. On every bf16 engine this CPU has.
TEST(GemmKernels, Bf16GemmRoundsItsOperandsAndIsThreadCountIndependent) {
  Rng rng(5);
  const int64_t M = 48, N = 200, K = 300, Kdeep = 1100;
  const Vec a = randn(rng, M * Kdeep), b = randn(rng, Kdeep * N), sentinel = randn(rng, M * N);
  Vec exact(static_cast<size_t>(M * N)), mag(exact.size());
  ref::matmul(exact.data(), a.data(), b.data(), M, K, N, false, false, false);
  ref::matmul(mag.data(), abs_of(a).data(), abs_of(b).data(), M, K, N, false, false, false);
  const Conv2dDims conv = make_conv2d_dims(4, 16, 8, 8, 40, 3, 3, 1, 1);
  const Vec x = randn(rng, conv.N * conv.Cin * conv.H * conv.W), w = randn(rng, conv.Cout * conv.col_rows());
  const Vec conv_sentinel = randn(rng, conv.N * conv.Cout * conv.out_pixels());
  for (Bf16Engine engine : {Bf16Engine::kAmxTiles, Bf16Engine::kAvx512Dot, Bf16Engine::kEmulated}) {
    if (engine == Bf16Engine::kAvx512Dot) force_bf16_avx512_dot(true);
    if (engine == Bf16Engine::kEmulated) force_bf16_emulation(true);
    if (bf16_engine() != engine) {  // not on this CPU
      force_bf16_avx512_dot(false);
      std::printf("[ note     ] bf16 engine %s: not on this CPU, not checked\n", describe(engine));
      continue;
    }
    const std::string what = describe(engine);
    PrecisionScope scope(Precision::kBf16);
    // Each run on 1 and on 2 threads from the same start.
    auto both = [](const Vec& start, auto run) {
      std::vector<Vec> out(2, start);
      for (int threads : {1, 2}) {
        ThreadCount guard(threads);
        run(out[static_cast<size_t>(threads - 1)].data());
      }
      return out;
    };
    const auto shallow = both(sentinel, [&](Scalar* y) { matmul(y, a.data(), b.data(), M, K, N, false, false, false); });
    const auto deep = both(sentinel, [&](Scalar* y) { matmul(y, a.data(), b.data(), M, Kdeep, N, false, false, true); });
    const auto convs = both(conv_sentinel, [&](Scalar* y) { conv2d_forward(y, x.data(), w.data(), nullptr, conv, true); });
    force_bf16_emulation(false);
    force_bf16_avx512_dot(false);
    EXPECT_EQ(shallow[0], shallow[1]) << what;
    EXPECT_EQ(deep[0], deep[1]) << what << ", K " << Kdeep << ", accumulating";
    EXPECT_EQ(convs[0], convs[1]) << what << ", conv with packed weights, accumulating";
    EXPECT_NE(deep[0], sentinel) << what;
    double worst = 0;  // the largest miss in units of the fp32 summation bound
    for (size_t i = 0; i < exact.size(); ++i)
      worst = std::max(worst, std::abs(double(shallow[0][i]) - exact[i]) /
                                  ((K + 4) * std::numeric_limits<float>::epsilon() * mag[i]));
    EXPECT_GT(worst, 1.0) << what;
  }
}

TEST(GemmKernels, ReferenceKernelsAreAdjoint) {
  Rng rng(7);
  for (const ConvCase& c : kConvCases) {
    const Conv2dDims d = dims_of(c);
    const int64_t xn = d.N * d.Cin * d.H * d.W, wn = d.Cout * d.col_rows();
    const int64_t yn = d.N * d.Cout * d.out_pixels();
    const Vec x = randn(rng, xn), w = randn(rng, wn), g = randn(rng, yn);
    Vec y(static_cast<size_t>(yn)), dx(static_cast<size_t>(xn)), dw(static_cast<size_t>(wn));
    ref::conv2d_forward(y.data(), x.data(), w.data(), nullptr, d, false);
    ref::conv2d_backward_input(dx.data(), g.data(), w.data(), d, false);
    ref::conv2d_backward_weight(dw.data(), g.data(), x.data(), d, false);
    Vec mag(static_cast<size_t>(yn));
    ref::conv2d_forward(mag.data(), abs_of(x).data(), abs_of(w).data(), nullptr, d, false);
    const double scale = dot(mag, abs_of(g));
    const int64_t terms = std::max({d.col_rows(), d.Cout * d.KH * d.KW, d.N * d.out_pixels()});
    const double tol = 2 * (terms + 4) * std::numeric_limits<Scalar>::epsilon() * scale;
    const double fwd = dot(y, g);
    EXPECT_NEAR(dot(x, dx), fwd, tol) << name(c);
    EXPECT_NEAR(dot(w, dw), fwd, tol) << name(c);
    EXPECT_GT(std::abs(fwd), 0.0) << name(c);
  }
}

// `sngan bench`'s computed FLOPs: per output block and channel pair, the Winograd form's
// multiplies ((m + 2)^2 for F(m x m, 3x3), 4 (m + 1)^2 for F(m x m, 2x2) over the four
// kernel phases), with 4x4 blocks only in fp32 where the sizes allow (not for the 3x3 convs'
// weight gradients on 4x4 maps), and the direct conv's multiply-adds elsewhere.
TEST(GemmKernels, ConvMultiplyAddsCountWhatTheKernelsCompute) {
  const Conv2dDims conv3 = make_conv2d_dims(2, 64, 16, 12, 48, 3, 3, 1, 1);  // 16x12 outputs
  const Conv2dDims down = make_conv2d_dims(2, 64, 16, 32, 48, 4, 4, 2, 1);   // 8x16 outputs
  const Conv2dDims down8 = make_conv2d_dims(2, 64, 8, 8, 48, 4, 4, 2, 1);    // 4x4 outputs
  const Conv2dDims odd = make_conv2d_dims(2, 64, 6, 10, 48, 3, 3, 1, 1);     // 6x10: 2x2 blocks only
  const Conv2dDims narrow = make_conv2d_dims(2, 16, 16, 16, 48, 3, 3, 1, 1);  // under 32 channels
  const int64_t pairs = 64 * 48;
  auto all = [](const Conv2dDims& d) {
    return std::array<int64_t, 3>{conv_multiply_adds(d, ConvProduct::kForward),
                                  conv_multiply_adds(d, ConvProduct::kInputGradient),
                                  conv_multiply_adds(d, ConvProduct::kWeightGradient)};
  };
  using Counts = std::array<int64_t, 3>;
  const int64_t direct_narrow = 2 * 48 * 16 * 16 * 16 * 9;
  EXPECT_EQ(all(narrow), (Counts{direct_narrow, direct_narrow, direct_narrow}));
  if (!fp32_runs_on_avx512()) {
    const int64_t direct = 2 * 48 * 16 * 12 * 64 * 9;
    EXPECT_EQ(all(conv3), (Counts{direct, direct, direct}));
    return;
  }
  const int64_t small3 = 2 * 8 * 6 * pairs * 16, large3 = 2 * 4 * 3 * pairs * 36;
  EXPECT_EQ(all(conv3), (Counts{large3, large3, large3}));
  const Conv2dDims conv3_4x4 = make_conv2d_dims(2, 64, 4, 4, 48, 3, 3, 1, 1);  // one 4x4 block
  const int64_t large3_4x4 = 2 * pairs * 36, small3_4x4 = 2 * 2 * 2 * pairs * 16;
  EXPECT_EQ(all(conv3_4x4), (Counts{large3_4x4, large3_4x4, small3_4x4}));
  const int64_t small_down = 2 * 4 * 8 * pairs * 36, large_down = 2 * 2 * 4 * pairs * 100;
  EXPECT_EQ(all(down), (Counts{large_down, large_down, large_down}));
  const int64_t small_down8 = 2 * 2 * 2 * pairs * 36;
  EXPECT_EQ(all(down8), (Counts{small_down8, small_down8, small_down8}));
  const int64_t small_odd = 2 * 3 * 5 * pairs * 16;
  EXPECT_EQ(all(odd), (Counts{small_odd, small_odd, small_odd}));
  PrecisionScope scope(Precision::kBf16);
  if (bf16_engine() != Bf16Engine::kEmulated) {
    EXPECT_EQ(all(conv3), (Counts{small3, small3, small3}));
    EXPECT_EQ(all(down), (Counts{small_down, small_down, small_down}));
  }
}

TEST(GemmKernels, Conv2dDims) {
  const Conv2dDims d = make_conv2d_dims(2, 3, 7, 5, 4, 3, 3, 2, 1);
  EXPECT_EQ(d.Hout, 4);  // (7 + 2 - 3) / 2 + 1
  EXPECT_EQ(d.Wout, 3);  // (5 + 2 - 3) / 2 + 1
  EXPECT_EQ(d.col_rows(), 27);
  EXPECT_EQ(make_conv2d_dims(1, 1, 4, 4, 1, 4, 4, 1, 0).Hout, 1);  // kernel == input: 1x1
  // Empty outputs: the kernel does not fit the padded input. (H + 2*pad - K) is -1 in the
  // second case, which truncating division would round to an output of size 1.
  EXPECT_THROW(make_conv2d_dims(1, 1, 2, 2, 1, 3, 3, 1, 0), Error);
  EXPECT_THROW(make_conv2d_dims(1, 1, 1, 1, 1, 4, 4, 2, 1), Error);
  EXPECT_THROW(make_conv2d_dims(1, 1, 8, 2, 1, 3, 3, 1, 0), Error);
  EXPECT_THROW(make_conv2d_dims(0, 1, 5, 5, 1, 3, 3, 1, 0), Error);
  EXPECT_THROW(make_conv2d_dims(1, 1, 5, 5, 1, 3, 3, 0, 0), Error);
  EXPECT_THROW(make_conv2d_dims(1, 1, 5, 5, 1, 3, 3, 1, -1), Error);
  // Rectangular padding: rows and columns each by their own pad.
  const Conv2dDims r = make_conv2d_dims(1, 2, 17, 17, 3, 1, 7, 1, 0, 3);
  EXPECT_EQ(r.Hout, 17);
  EXPECT_EQ(r.Wout, 17);
  EXPECT_EQ(r.col_rows(), 14);
  const Conv2dDims r2 = make_conv2d_dims(1, 2, 9, 11, 3, 3, 3, 2, 2, 1);
  EXPECT_EQ(r2.Hout, 6);  // (9 + 4 - 3) / 2 + 1
  EXPECT_EQ(r2.Wout, 6);  // (11 + 2 - 3) / 2 + 1
  EXPECT_THROW(make_conv2d_dims(1, 1, 5, 5, 1, 3, 3, 1, 1, -1), Error);
  EXPECT_THROW(make_conv2d_dims(1, 1, 5, 2, 1, 1, 7, 1, 3, 2), Error);  // 2 + 4 < 7 columns
  try {
    make_conv2d_dims(1, 1, 2, 2, 1, 3, 3, 1, 0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sngan::kernels
