// Fast kernels: im2col/col2im + a packed GEMM on the raw row-major buffers: the project's
// AVX-512 micro-kernel (gemm_avx512.cpp) where the CPU has AVX-512F, else Eigen's GEMM.
//
// A conv call splits its batch into chunks of B samples whose im2col columns sit side by
// side, so one GEMM covers B*Hout*Wout columns (small feature maps still give a wide GEMM).
// Within a chunk, input channels go in blocks small enough that a block's im2col columns stay
// in L2 between im2col and the GEMM. With at least as many chunks as threads, chunks run in
// an OpenMP loop with single-threaded GEMMs; otherwise (a batch too small to split) chunks
// run in order and each GEMM is split over the threads. 1x1 stride-1 unpadded convs of one
// sample skip im2col. On the AVX-512 fp32 kernel and on the native bf16 engines, the GEMMs of
// convs whose taps read contiguous pixel runs take the im2col matrix as a view of the input instead
// (implicit im2col, one GEMM over all input channels), and backward_input (from 32 input
// channels in fp32, 16 in bf16) runs as one GEMM per phase of dx on a view of dy instead of
// GEMM + col2im. Workspaces, including the GEMM's packing buffers, are thread_local and
// only grow: steady-state calls do not allocate. The work split depends only on the shapes
// and the thread count, so results are reproducible for a fixed thread count. In fp32 on
// AVX-512 and in bf16 on the native engines, 3x3 stride-1 "same" convs and 4x4 stride-2 pad-1
// ones of 32 channels and more take Winograd F(2x2, 3x3) or F(2x2, 2x2) for their forward and
// both gradients instead (winograd.h).
#include "core/tensor/kernels/gemm_ops.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <numeric>
#include <vector>

#include "core/tensor/kernels/avx512_block.h"
#include "core/tensor/kernels/gemm_avx512.h"
#include "core/tensor/kernels/gemm_bf16.h"
#include "core/tensor/kernels/winograd.h"

namespace sngan::kernels {

Conv2dDims make_conv2d_dims(int64_t N, int64_t Cin, int64_t H, int64_t W, int64_t Cout,
                            int64_t KH, int64_t KW, int64_t stride, int64_t pad_h,
                            int64_t pad_w) {
  SNGAN_CHECK(N > 0 && Cin > 0 && H > 0 && W > 0 && Cout > 0 && KH > 0 && KW > 0,
              "conv2d: expected positive sizes (N, Cin, H, W, Cout, KH, KW), got (", N, ", ",
              Cin, ", ", H, ", ", W, ", ", Cout, ", ", KH, ", ", KW, ")");
  SNGAN_CHECK(stride > 0, "conv2d: expected stride >= 1, got ", stride);
  SNGAN_CHECK(pad_h >= 0 && pad_w >= 0, "conv2d: expected padding >= 0, got (", pad_h, ", ",
              pad_w, ")");
  SNGAN_CHECK(H + 2 * pad_h >= KH && W + 2 * pad_w >= KW,
              "conv2d: expected a non-empty output (padded input at least the kernel size), got "
              "input ", H, "x", W, " + pad (", pad_h, ", ", pad_w, ") for kernel ", KH, "x", KW);
  Conv2dDims d;
  d.N = N, d.Cin = Cin, d.H = H, d.W = W, d.Cout = Cout, d.KH = KH, d.KW = KW;
  d.stride = stride, d.pad_h = pad_h, d.pad_w = pad_w;
  d.Hout = (H + 2 * pad_h - KH) / stride + 1;
  d.Wout = (W + 2 * pad_w - KW) / stride + 1;
  return d;
}

namespace {
std::atomic<Precision> g_precision{Precision::kFp32};
std::atomic<bool> g_force_emulation{false};
std::atomic<bool> g_force_avx512_dot{false};
std::atomic<bool> g_force_eigen{false};
std::atomic<bool> g_force_explicit_im2col{false};
std::atomic<bool> g_disable_winograd{false};
// The fp32 GEMMs take the AVX-512 micro-kernel.
bool avx512_path() {
#ifdef SNGAN_SCALAR_DOUBLE
  return false;  // the gradient-check build computes in double: Eigen's GEMM
#else
  return !g_force_eigen.load(std::memory_order_relaxed) && fp32_gemm_on_avx512();
#endif
}
#ifndef SNGAN_SCALAR_DOUBLE
// The bf16 GEMMs run on a native engine (AMX tiles or AVX512_BF16 dot products).
bool native_bf16_path() { return bf16_engine() != Bf16Engine::kEmulated; }
// The packed GEMM's engine (only where native_bf16_path()).
Bf16Kernel packed_engine() {
  return bf16_engine() == Bf16Engine::kAmxTiles ? Bf16Kernel::kAmxTiles : Bf16Kernel::kAvx512Dot;
}
#endif
}  // namespace

Precision precision() { return g_precision.load(std::memory_order_relaxed); }
void set_precision(Precision p) { g_precision.store(p, std::memory_order_relaxed); }
Bf16Engine bf16_engine() {
#ifdef SNGAN_SCALAR_DOUBLE
  return Bf16Engine::kEmulated;  // the gradient-check build: bf16 is emulated in double
#else
  if (g_force_emulation.load(std::memory_order_relaxed)) return Bf16Engine::kEmulated;
  if (bf16_amx_tiles_available() && !g_force_avx512_dot.load(std::memory_order_relaxed))
    return Bf16Engine::kAmxTiles;
  return bf16_avx512_dot_available() ? Bf16Engine::kAvx512Dot : Bf16Engine::kEmulated;
#endif
}
const char* describe(Bf16Engine engine) {
  switch (engine) {
    case Bf16Engine::kAmxTiles: return "AMX-BF16 tiles";
    case Bf16Engine::kAvx512Dot: return "AVX512_BF16 dot products";
    case Bf16Engine::kEmulated: break;
  }
  return "emulated";
}
bool fp32_runs_on_avx512() { return avx512_path(); }
void force_eigen_fp32(bool on) { g_force_eigen.store(on, std::memory_order_relaxed); }
void force_bf16_emulation(bool on) { g_force_emulation.store(on, std::memory_order_relaxed); }
void force_bf16_avx512_dot(bool on) { g_force_avx512_dot.store(on, std::memory_order_relaxed); }
void force_explicit_im2col(bool on) { g_force_explicit_im2col.store(on, std::memory_order_relaxed); }
void disable_winograd(bool on) { g_disable_winograd.store(on, std::memory_order_relaxed); }
bool winograd_disabled() { return g_disable_winograd.load(std::memory_order_relaxed); }
Scalar round_to_bf16(Scalar x) {
  return static_cast<Scalar>(nearest_bf16(static_cast<float>(x)));
}

namespace {

using Buffer = std::vector<Scalar, Eigen::aligned_allocator<Scalar>>;
enum Slot { kCol, kMat, kPart, kPhase, kPackA, kPackB, kRoundA, kRoundB, kSlots };

// A per-thread scratch buffer of at least n elements; grows, never shrinks.
Scalar* workspace(Slot slot, int64_t n) {
  thread_local Buffer buffers[kSlots];
  Buffer& b = buffers[slot];
  if (static_cast<int64_t>(b.size()) < n) {
    b = Buffer();  // free first: no copy of the old contents
    b.resize(static_cast<size_t>(n));
  }
  return b.data();
}

bool is_pointwise(const Conv2dDims& d) {
  return d.KH == 1 && d.KW == 1 && d.stride == 1 && d.pad_h == 0 && d.pad_w == 0;
}

// Keep the short fill/copy loops below inline: GCC otherwise turns each into a memset/memcpy
// call, which costs more than the loop for the few elements of a padding column.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

// ---- im2col / col2im ----
// col (Cin*KH*KW, row stride ld): col[(c*KH + kh)*KW + kw][oh*Wout + ow] =
// x (Cin, H, W) at (c, oh*stride - pad_h + kh, ow*stride - pad_w + kw), zero outside.
//
// Writing ih = oh*s - pad_h + kh as s*(oh + dh) + a (0 <= a < s) makes row (c, kh, kw) a shifted
// window of one "phase plane" P_ab(i, j) = x(c, s*i + a, s*j + b): x's channel itself when
// s == 1, else one of s*s planes of size (Hs, Ws) = (ceil(H/s), ceil(W/s)) split out once per
// sample (zero past the input). When a plane is as wide as the output, as in every "same"
// conv (3x3 pad 1, 4x4 stride 2 pad 1 on even sizes, 1x1), a window is one contiguous copy
// plus a few zeroed padding columns. Tiny outputs (a window of a few short rows) instead use a
// table of source offsets shared by all channels.

// Short fills and copies stay inline loops; long ones use Eigen's vector loops: glibc's
// memcpy measured up to 3x slower here for im2col's multi-KiB plane copies (likely its
// rep-movsb path with 4 KiB-aliased source and destination).
using VecMap = Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>;
using ConstVecMap = Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>;
inline void zero(Scalar* p, int64_t n) {
  if (n >= 64) VecMap(p, n).setZero();
  else
    for (int64_t i = 0; i < n; ++i) p[i] = 0;
}
inline void copy(Scalar* dst, const Scalar* src, int64_t n) {
  if (n > 0) VecMap(dst, n) = ConstVecMap(src, n);
}

// Where im2col row (c, kh, kw) reads: phase plane `plane` of channel c shifted by (dh, dw);
// output rows [i0, i1) and columns [j0, j1) fall inside the plane. The same for every
// channel and sample, so computed once per call.
struct Tap {
  int64_t plane, dh, dw, i0, i1, j0, j1;
};

const Tap* make_taps(const Conv2dDims& d, int64_t Hs, int64_t Ws) {
  thread_local std::vector<Tap> taps;
  taps.resize(static_cast<size_t>(d.KH * d.KW));
  const int64_t s = d.stride;
  for (int64_t kh = 0; kh < d.KH; ++kh) {
    for (int64_t kw = 0; kw < d.KW; ++kw) {
      const int64_t th = kh - d.pad_h, tw = kw - d.pad_w;
      const int64_t a = ((th % s) + s) % s, b = ((tw % s) + s) % s;
      Tap t;
      t.plane = a * s + b, t.dh = (th - a) / s, t.dw = (tw - b) / s;
      t.i0 = std::clamp<int64_t>(-t.dh, 0, d.Hout);
      t.i1 = std::clamp<int64_t>(Hs - t.dh, t.i0, d.Hout);
      t.j0 = std::clamp<int64_t>(-t.dw, 0, d.Wout);
      t.j1 = std::clamp<int64_t>(Ws - t.dw, t.j0, d.Wout);
      if (t.j0 == t.j1) t.i1 = t.i0;
      taps[static_cast<size_t>(kh * d.KW + kw)] = t;
    }
  }
  return taps.data();
}

// dst (Hout, Wout) = plane (Hs, Ws) at (i + dh, j + dw), zero outside the plane.
void copy_window(Scalar* __restrict dst, const Scalar* __restrict plane, const Tap& t,
                 int64_t Hout, int64_t Wout, int64_t Ws) {
  zero(dst, t.i0 * Wout);
  zero(dst + t.i1 * Wout, (Hout - t.i1) * Wout);
  if (t.i0 == t.i1) return;
  if (Ws == Wout) {  // one run: dst[f] = plane[f + dh*Ws + dw]
    const int64_t first = t.i0 * Wout + t.j0, last = (t.i1 - 1) * Wout + t.j1;
    copy(dst + first, plane + first + t.dh * Ws + t.dw, last - first);
    if (t.j0 > 0 || t.j1 < Wout) {
      for (int64_t i = t.i0; i < t.i1; ++i) {
        for (int64_t j = 0; j < t.j0; ++j) dst[i * Wout + j] = 0;
        for (int64_t j = t.j1; j < Wout; ++j) dst[i * Wout + j] = 0;
      }
    }
    return;
  }
  for (int64_t i = t.i0; i < t.i1; ++i) {
    Scalar* r = dst + i * Wout;
    const Scalar* src = plane + (i + t.dh) * Ws + t.dw;
    zero(r, t.j0);
    for (int64_t j = t.j0; j < t.j1; ++j) r[j] = src[j];
    zero(r + t.j1, Wout - t.j1);
  }
}

// The adjoint: plane (Hs, Ws) at (i + dh, j + dw) += src (Hout, Wout) inside the plane.
// src is scratch: its entries outside the plane may be zeroed.
void add_window(Scalar* __restrict plane, Scalar* __restrict src, const Tap& t, int64_t Wout,
                int64_t Ws) {
  if (t.i0 == t.i1) return;
  if (Ws == Wout) {  // one run, with the padding entries zeroed so they add nothing
    if (t.j0 > 0 || t.j1 < Wout) {
      for (int64_t i = t.i0; i < t.i1; ++i) {
        for (int64_t j = 0; j < t.j0; ++j) src[i * Wout + j] = 0;
        for (int64_t j = t.j1; j < Wout; ++j) src[i * Wout + j] = 0;
      }
    }
    const int64_t first = t.i0 * Wout + t.j0, n = (t.i1 - 1) * Wout + t.j1 - first;
    VecMap(plane + first + t.dh * Ws + t.dw, n) += ConstVecMap(src + first, n);
    return;
  }
  for (int64_t i = t.i0; i < t.i1; ++i) {
    Scalar* __restrict dst = plane + (i + t.dh) * Ws + t.dw;
    const Scalar* r = src + i * Wout;
    for (int64_t j = t.j0; j < t.j1; ++j) dst[j] += r[j];
  }
}

// Phase planes ph (Cin, s, s, Hs, Ws) of x (Cin, H, W), and back (= or +=).
int64_t phase_rows(const Conv2dDims& d) { return (d.H + d.stride - 1) / d.stride; }
int64_t phase_cols(const Conv2dDims& d) { return (d.W + d.stride - 1) / d.stride; }

template <int S>  // S: the stride if 2 (unrolled strided loops), else 0
void split_phases(const Scalar* x, Scalar* ph, const Conv2dDims& d, int64_t channels) {
  const int64_t s = S > 0 ? S : d.stride, Hs = phase_rows(d), Ws = phase_cols(d);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t a = 0; a < s; ++a) {
      for (int64_t i = 0; i < Hs; ++i) {
        const int64_t r = s * i + a;
        for (int64_t b = 0; b < s; ++b) {
          Scalar* __restrict dst = ph + (((c * s + a) * s + b) * Hs + i) * Ws;
          const int64_t n = r < d.H ? (d.W - b + s - 1) / s : 0;  // columns s*j + b < W
          if (n > 0) {
            const Scalar* __restrict src = x + (c * d.H + r) * d.W + b;
            for (int64_t j = 0; j < n; ++j) dst[j] = src[s * j];
          }
          zero(dst + n, Ws - n);
        }
      }
    }
  }
}

template <int S>
void merge_phases(const Scalar* ph, Scalar* dx, const Conv2dDims& d, int64_t channels,
                  bool accumulate) {
  const int64_t s = S > 0 ? S : d.stride, Hs = phase_rows(d), Ws = phase_cols(d);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t r = 0; r < d.H; ++r) {
      const int64_t a = r % s, i = r / s;
      for (int64_t b = 0; b < s; ++b) {
        const Scalar* __restrict src = ph + (((c * s + a) * s + b) * Hs + i) * Ws;
        Scalar* __restrict dst = dx + (c * d.H + r) * d.W + b;
        const int64_t n = (d.W - b + s - 1) / s;
        if (accumulate) {
          for (int64_t j = 0; j < n; ++j) dst[s * j] += src[j];
        } else {
          for (int64_t j = 0; j < n; ++j) dst[s * j] = src[j];
        }
      }
    }
  }
}

// Offsets into a channel plane (H, W) of every output pixel for every (kh, kw), -1 in the
// padding: table (KH*KW, P), shared by all channels. Used when the output is so narrow that
// per-window overhead would dominate (measured crossover: 4 to 8 columns).
bool use_offset_table(const Conv2dDims& d) { return d.Wout <= 4; }

const int32_t* offset_table(const Conv2dDims& d) {
  thread_local std::vector<int32_t> table;
  thread_local int64_t key[7] = {-1, -1, -1, -1, -1, -1, -1};  // the geometry `table` is for
  const int64_t now[7] = {d.H, d.W, d.KH, d.KW, d.stride, d.pad_h, d.pad_w};
  if (std::equal(now, now + 7, key)) return table.data();
  std::copy(now, now + 7, key);
  table.resize(static_cast<size_t>(d.KH * d.KW * d.out_pixels()));
  int32_t* t = table.data();
  for (int64_t kh = 0; kh < d.KH; ++kh)
    for (int64_t kw = 0; kw < d.KW; ++kw)
      for (int64_t oh = 0; oh < d.Hout; ++oh)
        for (int64_t ow = 0; ow < d.Wout; ++ow) {
          const int64_t ih = oh * d.stride - d.pad_h + kh, iw = ow * d.stride - d.pad_w + kw;
          const bool inside = ih >= 0 && ih < d.H && iw >= 0 && iw < d.W;
          *t++ = inside ? static_cast<int32_t>(ih * d.W + iw) : -1;
        }
  return table.data();
}

// im2col of `channels` channels of one sample: x (channels, H, W) -> col (channels*KH*KW
// rows, row stride ld).
void im2col(const Scalar* x, Scalar* col, int64_t ld, const Conv2dDims& d, int64_t channels) {
  const int64_t KK = d.KH * d.KW, P = d.out_pixels();
  if (use_offset_table(d)) {
    const int32_t* table = offset_table(d);
    for (int64_t c = 0; c < channels; ++c) {
      const Scalar* xc = x + c * d.H * d.W;
      for (int64_t k = 0; k < KK; ++k) {
        Scalar* __restrict dst = col + (c * KK + k) * ld;
        const int32_t* t = table + k * P;
        for (int64_t i = 0; i < P; ++i) dst[i] = t[i] >= 0 ? xc[t[i]] : Scalar(0);
      }
    }
    return;
  }
  const int64_t s = d.stride, Hs = phase_rows(d), Ws = phase_cols(d), plane = Hs * Ws;
  const Scalar* planes = x;  // (channels, s, s, Hs, Ws)
  if (s > 1) {
    Scalar* ph = workspace(kPhase, channels * s * s * plane);
    if (s == 2) split_phases<2>(x, ph, d, channels);
    else split_phases<0>(x, ph, d, channels);
    planes = ph;
  }
  const Tap* taps = make_taps(d, Hs, Ws);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < KK; ++k)
      copy_window(col + (c * KK + k) * ld, planes + (c * s * s + taps[k].plane) * plane, taps[k],
                  d.Hout, d.Wout, Ws);
}

// The adjoint of im2col: dx (channels, H, W) (+)= the scatter-add of col. col is scratch and
// may be modified.
void col2im(Scalar* col, int64_t ld, Scalar* dx, const Conv2dDims& d, int64_t channels,
            bool accumulate) {
  const int64_t KK = d.KH * d.KW, P = d.out_pixels();
  if (use_offset_table(d)) {
    if (!accumulate) zero(dx, channels * d.H * d.W);
    const int32_t* table = offset_table(d);
    for (int64_t c = 0; c < channels; ++c) {
      Scalar* dxc = dx + c * d.H * d.W;
      for (int64_t k = 0; k < KK; ++k) {
        const Scalar* src = col + (c * KK + k) * ld;
        const int32_t* t = table + k * P;
        for (int64_t i = 0; i < P; ++i)
          if (t[i] >= 0) dxc[t[i]] += src[i];
      }
    }
    return;
  }
  const int64_t s = d.stride, Hs = phase_rows(d), Ws = phase_cols(d), plane = Hs * Ws;
  Scalar* planes = dx;
  if (s > 1) {
    planes = workspace(kPhase, channels * s * s * plane);
    zero(planes, channels * s * s * plane);
  } else if (!accumulate) {
    zero(dx, channels * d.H * d.W);
  }
  const Tap* taps = make_taps(d, Hs, Ws);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < KK; ++k)
      add_window(planes + (c * s * s + taps[k].plane) * plane, col + (c * KK + k) * ld, taps[k],
                 d.Wout, Ws);
  if (s == 2) merge_phases<2>(planes, dx, d, channels, accumulate);
  else if (s > 2) merge_phases<0>(planes, dx, d, channels, accumulate);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// ---- implicit im2col ----
// The AVX-512 fp32 GEMM and the native bf16 ones read the forward's and the weight
// gradient's im2col matrix in place (im2col_view.h) when a view can describe it.
// (Not in the gradient-check build, which computes in double: views hold floats.)
#ifndef SNGAN_SCALAR_DOUBLE
// The GEMM engines that read views: the AVX-512 fp32 kernel and the native bf16 ones.
bool views_served() {
  return !g_force_explicit_im2col.load(std::memory_order_relaxed) &&
         (precision() == Precision::kBf16 ? native_bf16_path() : avx512_path());
}

bool implicit_im2col(const Conv2dDims& d) {
  return views_served() && phase_cols(d) == d.Wout && d.out_pixels() % 16 == 0;
}

// The tables of a view over B samples (`sample` floats apart) of `channels` channels, each of
// `phases` planes of `plane` floats and `width` columns, read by `T` taps per channel for an
// output (Q pixels) exactly `width` wide: row r = (channel, tap) reads from its plane at
// (i + dh, j + dw) for the output pixels (i, j) in [i0, i1) x [j0, j1). Built once per shape
// and thread (a handful of shapes per model), then reused.
struct ViewTables {
  std::vector<int64_t> row_offset, group_offset;
  std::vector<int32_t> row_mask, group_mask;
  std::vector<uint16_t> masks;
};

const ViewTables& view_tables(int64_t B, int64_t sample, int64_t channels, int64_t phases,
                              int64_t plane, int64_t width, int64_t Q, const Tap* taps, int64_t T) {
  std::vector<int64_t> key = {B, sample, channels, phases, plane, width, Q};
  for (int64_t t = 0; t < T; ++t)
    key.insert(key.end(), {taps[t].plane, taps[t].dh, taps[t].dw, taps[t].i0, taps[t].i1, taps[t].j0, taps[t].j1});
  thread_local std::map<std::vector<int64_t>, ViewTables> cache;
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  ViewTables& v = cache[key];
  const int64_t G = Q / 16;
  v.masks.assign(static_cast<size_t>(T * G), 0);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t f = 0, i = 0, j = 0; f < Q; ++f) {  // (i, j): pixel f's row and column
      if (i >= taps[t].i0 && i < taps[t].i1 && j >= taps[t].j0 && j < taps[t].j1)
        v.masks[static_cast<size_t>(t * G + f / 16)] |= uint16_t(1u << (f % 16));
      if (++j == width) j = 0, ++i;
    }
  }
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t t = 0; t < T; ++t) {
      v.row_offset.push_back((c * phases + taps[t].plane) * plane + taps[t].dh * width + taps[t].dw);
      v.row_mask.push_back(static_cast<int32_t>(t * G));
    }
  }
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t g = 0; g < G; ++g) {
      v.group_offset.push_back(i * sample + 16 * g);
      v.group_mask.push_back(static_cast<int32_t>(g));
    }
  }
  return v;
}

Im2colView make_view(const Scalar* base, const ViewTables& t, int64_t rows, int64_t cols) {
  Im2colView v;
  v.base = base, v.row_offset = t.row_offset.data(), v.row_mask = t.row_mask.data();
  v.group_offset = t.group_offset.data(), v.group_mask = t.group_mask.data(), v.masks = t.masks.data();
  v.rows = rows, v.cols = cols;
  return v;
}

// split_phases<2> on AVX-512 (views are read only where the CPU has it): each input row's
// even and odd columns in 16-lane blocks, two loads and two permutes per 32 floats. The scalar
// strided loop took about 3% of a bf16 training step at the 8- to 32-pixel-wide maps of the
// standard CNN's stride-2 layers (perf profile of `sngan bench` on cnn_c, bf16, AMD EPYC Zen 4).
// The same values in the same places, zeros included. (On a row's last block the masked-off
// lanes lie past the row; masked loads do not touch them.)
__attribute__((target("avx512f"))) void split_phases_stride2_avx512(const float* x, float* ph,
                                                                   const Conv2dDims& d,
                                                                   int64_t channels) {
  const int64_t Hs = phase_rows(d), Ws = phase_cols(d);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t a = 0; a < 2; ++a) {
      for (int64_t i = 0; i < Hs; ++i) {
        const int64_t r = 2 * i + a;
        float* e = ph + ((c * 2 + a) * 2 * Hs + i) * Ws;  // phase (a, 0)'s row i
        float* o = e + Hs * Ws;                              // phase (a, 1)'s
        const int64_t n = r < d.H ? d.W : 0;                 // input floats in this row
        const float* src = x + (c * d.H + std::min(r, d.H - 1)) * d.W;
        for (int64_t j = 0; j < Ws; j += 16) {  // phase columns j.., input columns 2j..
          const __m512 lo = _mm512_maskz_loadu_ps(avx512::lanes(n - 2 * j), src + 2 * j);
          const __m512 hi = _mm512_maskz_loadu_ps(avx512::lanes(n - 2 * j - 16), src + 2 * j + 16);
          const __mmask16 out = avx512::lanes(Ws - j);
          _mm512_mask_storeu_ps(e + j, out, _mm512_permutex2var_ps(lo, even, hi));
          _mm512_mask_storeu_ps(o + j, out, _mm512_permutex2var_ps(lo, odd, hi));
        }
      }
    }
  }
}

// The im2col view of B samples x (B, Cin, H, W): all Cin*KH*KW rows, B*P columns. For stride
// > 1 the samples' phase planes are split out into this thread's workspace first.
Im2colView im2col_view(const Scalar* x, const Conv2dDims& d, int64_t B) {
  const int64_t s = d.stride, Hs = phase_rows(d), Ws = phase_cols(d), plane = Hs * Ws;
  const int64_t xs = d.Cin * d.H * d.W;
  const Scalar* base = x;
  int64_t sample = xs;  // floats from one sample's planes to the next's
  if (s > 1) {
    sample = d.Cin * s * s * plane;
    Scalar* ph = workspace(kPhase, B * sample);
    for (int64_t i = 0; i < B; ++i) {
      if (s == 2) split_phases_stride2_avx512(x + i * xs, ph + i * sample, d, d.Cin);
      else split_phases<0>(x + i * xs, ph + i * sample, d, d.Cin);
    }
    base = ph;
  }
  const int64_t KK = d.KH * d.KW;
  const ViewTables& t =
      view_tables(B, sample, d.Cin, s * s, plane, Ws, d.out_pixels(), make_taps(d, Hs, Ws), KK);
  return make_view(base, t, d.Cin * KK, B * d.out_pixels());
}
#endif

// ---- GEMM ----
// Eigen's GEMM driver called directly with packing buffers that persist per thread: through
// the expression API every product mallocs and frees its packing blocks, and glibc then
// returns the memory to the kernel and faults it back in on the next call (measured: up to
// 25% of a conv's time). Calling the driver also makes assign-vs-accumulate explicit.

// One GEMM operand: row-major data with row stride ld, used transposed if t.
// `packed` (`packed_bf16`), when set, holds op(a) already packed for the AVX-512 fp32 GEMM
// (the native bf16 GEMM), rows from `row0`, used by GEMMs on that engine; the others read p.
// `view`, when set, replaces p as B: an im2col view read in place (only by the engines that
// read views: the AVX-512 fp32 kernel and the native bf16 ones).
struct Operand {
  const Scalar* p;
  int64_t ld;
  bool t;
  const PackedA* packed = nullptr;
  const PackedBf16A* packed_bf16 = nullptr;
  int64_t row0 = 0;
  const Im2colView* view = nullptr;
};

namespace ei = Eigen::internal;

// Eigen's blocking (cache block sizes kc, mc, nc) with buffers from this thread's workspace.
class Blocking : public ei::level3_blocking<Scalar, Scalar> {
 public:
  Blocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
    // As Eigen's gemm_blocking_space for a row-major result, which runs transposed.
    this->m_mc = cols, this->m_nc = rows, this->m_kc = depth;
    ei::computeProductBlockingSizes<Scalar, Scalar>(this->m_kc, this->m_mc, this->m_nc,
                                                    Eigen::Index(1));
    this->m_blockA = workspace(kPackA, this->m_mc * this->m_kc);
    this->m_blockB = workspace(kPackB, this->m_kc * this->m_nc);
  }
};

template <int LhsOrder, int RhsOrder>
void gemm_driver(Scalar* c, int64_t ldc, Operand a, Operand b, int64_t M, int64_t N,
                 int64_t K) {
  Blocking blocking(M, N, K);
#if EIGEN_VERSION_AT_LEAST(3, 4, 0)
  ei::general_matrix_matrix_product<Eigen::Index, Scalar, LhsOrder, false, Scalar, RhsOrder,
                                    false, Eigen::RowMajor, 1>::run(M, N, K, a.p, a.ld, b.p, b.ld,
                                                                    c, 1, ldc, Scalar(1),
                                                                    blocking, nullptr);
#else
  ei::general_matrix_matrix_product<Eigen::Index, Scalar, LhsOrder, false, Scalar, RhsOrder,
                                    false, Eigen::RowMajor>::run(M, N, K, a.p, a.ld, b.p, b.ld, c,
                                                                 ldc, Scalar(1), blocking,
                                                                 nullptr);
#endif
}

// op(x) (rows, cols) rounded to bf16 into a row-major workspace copy.
Operand rounded(Slot slot, Operand x, int64_t rows, int64_t cols) {
  Scalar* r = workspace(slot, rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      r[i * cols + j] = round_to_bf16(x.t ? x.p[j * x.ld + i] : x.p[i * x.ld + j]);
  return {r, cols, false};
}

void gemm_fp32(Scalar* c, int64_t ldc, Operand a, Operand b, int64_t M, int64_t N, int64_t K,
               bool add);

// c (M, N; row stride ldc) (=|+=) op(a) (M, K) * op(b) (K, N), on the calling thread, in the
// current precision.
void gemm(Scalar* c, int64_t ldc, Operand a, Operand b, int64_t M, int64_t N, int64_t K,
          bool add) {
  if (precision() == Precision::kBf16) {
#ifndef SNGAN_SCALAR_DOUBLE
    if (native_bf16_path()) {
      const BOperand bb{b.p, b.ld, b.t, b.view};
      if (a.packed_bf16 != nullptr) {
        SNGAN_CHECK(a.packed_bf16->depth == K, "packed bf16 GEMM operand of depth ",
                    a.packed_bf16->depth, " used at depth ", K);
        gemm_bf16_packed(packed_engine(), c, ldc, *a.packed_bf16, a.row0, bb, M, N, add);
      } else {
        gemm_bf16(packed_engine(), c, ldc, a.p, a.ld, a.t, bb, M, N, K, add);
      }
      return;
    }
#endif
    SNGAN_CHECK(b.view == nullptr, "an im2col view reached the emulated bf16 GEMM");
    if (M == 0 || N == 0) return;
    gemm_fp32(c, ldc, rounded(kRoundA, a, M, K), rounded(kRoundB, b, K, N), M, N, K, add);
    return;
  }
  gemm_fp32(c, ldc, a, b, M, N, K, add);
}

void gemm_fp32(Scalar* c, int64_t ldc, Operand a, Operand b, int64_t M, int64_t N, int64_t K,
               bool add) {
  if (M == 0 || N == 0) return;
#ifndef SNGAN_SCALAR_DOUBLE
  if (avx512_path()) {
    const BOperand bb{b.p, b.ld, b.t, b.view};
    if (a.packed != nullptr) {
      SNGAN_CHECK(a.packed->depth == K, "packed GEMM operand of depth ", a.packed->depth,
                  " used at depth ", K);
      gemm_fp32_avx512_packed(c, ldc, *a.packed, a.row0, bb, M, N, add);
    } else {
      gemm_fp32_avx512(c, ldc, a.p, a.ld, a.t, bb, M, N, K, add);
    }
    return;
  }
#endif
  SNGAN_CHECK(b.view == nullptr, "an im2col view reached Eigen's GEMM");
  if (!add)
    for (int64_t i = 0; i < M; ++i) zero(c + i * ldc, N);
  if (K == 0) return;
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;  // a stored (K, M) is (M, K) col-major
  if (!a.t && !b.t) gemm_driver<R, R>(c, ldc, a, b, M, N, K);
  else if (!a.t && b.t) gemm_driver<R, C>(c, ldc, a, b, M, N, K);
  else if (a.t && !b.t) gemm_driver<C, R>(c, ldc, a, b, M, N, K);
  else gemm_driver<C, C>(c, ldc, a, b, M, N, K);
}

// The same, split over the OpenMP threads along the longer of M and N when that pays; on the
// calling thread alone inside any parallel region (active or not), so callers may nest.
// The split points are multiples of Eigen's register block along the split (mr along N, which
// Eigen sees as rows since it computes the row-major c transposed; nr along M), and along N of
// 32 too, where an im2col view's column groups start. Each element
// then goes through the same micro-kernel path with the same depth blocks (kc depends on K
// alone) as without the split: the same bits whatever the thread count. (The AVX-512 kernel
// gives the same bits for any split; these points serve both engines, and along M they are
// also multiples of kPackedRowAlign and kBf16PackedRowAlign so that a packed op(a) splits on
// its panels.)
void gemm_threaded(Scalar* c, int64_t ldc, Operand a, Operand b, int64_t M, int64_t N,
                   int64_t K, bool add) {
  using Traits = ei::gebp_traits<Scalar, Scalar>;
  const double work = double(M) * double(N) * double(K);
  const bool split_n = N >= M;
  const int64_t along = split_n ? N : M;
  // At least 32 wide, as a multiple of the register block.
  const int64_t block =
      split_n ? std::lcm<int64_t>(Traits::mr, 32)
              : std::lcm(std::lcm<int64_t>(Traits::nr, kPackedRowAlign), kBf16PackedRowAlign);
  const int64_t unit = (32 + block - 1) / block * block;
  const int64_t units = along / unit;
  int T = omp_get_level() > 0 ? 1 : omp_get_max_threads();
  T = static_cast<int>(std::min<int64_t>({T, units, static_cast<int64_t>(work / 5e5)}));
  if (T <= 1) {
    gemm(c, ldc, a, b, M, N, K, add);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(T)
  for (int t = 0; t < T; ++t) {
    const int64_t lo = units * t / T * unit, hi = t + 1 == T ? along : units * (t + 1) / T * unit;
    if (split_n) {  // columns [lo, hi) of c and op(b)
      Operand bt = b;
      Im2colView sub;
      if (b.view != nullptr) {
        sub = b.t ? b.view->rows_from(lo) : b.view->cols_from(lo);
        bt.view = &sub;
      } else {
        bt.p = b.t ? b.p + lo * b.ld : b.p + lo;
      }
      gemm(c + lo, ldc, a, bt, M, hi - lo, K, add);
    } else {  // rows [lo, hi) of c and op(a)
      Operand at = a;
      at.p = a.t ? a.p + lo : a.p + lo * a.ld;
      at.row0 = a.row0 + lo;
      gemm(c + lo * ldc, ldc, at, b, hi - lo, N, K, add);
    }
  }
}

// ---- conv chunks ----

// m (rows, B*P) <- t (B, rows, P): B samples' planes side by side.
void gather(Scalar* m, const Scalar* t, int64_t B, int64_t rows, int64_t P) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < B; ++b) copy(m + r * B * P + b * P, t + (b * rows + r) * P, P);
}

// Tuning, measured with conv_bench and single-layer runs at 4x4 to 32x32 on one 2-core x86-64
// machine with 512 KiB of L2 per core (other CPUs may prefer other values):
//  - kTargetCols: GEMM columns per chunk. Narrower GEMMs lose efficiency; wider ones only add
//    gather/scatter copies and cache pressure (256 and 512 best, 2048 5-10% slower).
//  - kColBlock: elements of one im2col block. Input channels go in blocks whose columns stay
//    in L2 between im2col and GEMM; the GEMM streams its result once per depth block anyway,
//    so splitting the depth costs little (64K-128K best).
//  - kMinDepth: but no block shallower than this many rows (GEMM efficiency drops below it).
// The same values serve the bf16 precision (measured with conv_bench --bf16 1 on 3x3 layers
// 128->128 at 16x16, 128->256 at 8x8, 256->512 at 4x4 and the 4x4 stride-2 64->128 at 32x32:
// wider chunks or deeper blocks were no faster).
constexpr int64_t kTargetCols = 256;
constexpr int64_t kColBlock = 64 * 1024;
constexpr int64_t kMinDepth = 256;

// Input channels per im2col block for GEMMs `ld` columns wide: at most kColBlock elements,
// unless that would make the GEMM shallower than kMinDepth rows. (A GEMM on an im2col view
// takes all channels at once.)
int64_t channel_block(const Conv2dDims& d, int64_t ld) {
  const int64_t KK = d.KH * d.KW;
  const int64_t cb = std::max(kColBlock / (KK * ld), (kMinDepth + KK - 1) / KK);
  return std::clamp<int64_t>(cb, 1, d.Cin);
}

// The weights' GEMM operand packed once per conv call, one packed operand per block of `cb`
// input channels, instead of once per batch chunk: for the AVX-512 fp32 GEMM (with chunks a
// few hundred columns wide, packing the weights again for each cost about 5% of a training
// step) and for the native bf16 GEMM (whose packing costs more next to its faster
// products). A chunk whose channel blocks differ (a shorter last chunk) packs its own.
struct WeightPacks {
  const PackedA* fp32 = nullptr;
  const PackedBf16A* bf16 = nullptr;
  int64_t cb = 0;
  // The GEMM operand of channel block c0 (for a chunk whose blocks hold chunk_cb channels).
  Operand operand(const Scalar* p, int64_t ld, bool t, int64_t c0, int64_t chunk_cb) const {
    Operand o{p, ld, t};
    if (chunk_cb == cb && fp32 != nullptr) o.packed = fp32 + c0 / cb;
    if (chunk_cb == cb && bf16 != nullptr) o.packed_bf16 = bf16 + c0 / cb;
    return o;
  }
};

// im2col of channels [c0, c1) of B samples x (B, Cin, H, W) into col (rows, B*P).
void chunk_im2col(Scalar* col, const Scalar* x, const Conv2dDims& d, int64_t B, int64_t c0,
                  int64_t c1) {
  const int64_t P = d.out_pixels(), ld = B * P, xs = d.Cin * d.H * d.W;
  for (int64_t i = 0; i < B; ++i) {
    const Scalar* xi = x + i * xs + c0 * d.H * d.W;
    if (is_pointwise(d)) {
      for (int64_t c = 0; c < c1 - c0; ++c) copy(col + c * ld + i * P, xi + c * P, P);
    } else {
      im2col(xi, col + i * P, ld, d, c1 - c0);
    }
  }
}

// y (B, Cout, P) of the chunk's B samples (=|+=) conv(x) + b.
void forward_chunk(Scalar* y, const Scalar* x, const Scalar* w, const Scalar* b,
                   const Conv2dDims& d, int64_t B, bool accumulate, const WeightPacks& packs) {
  const int64_t K = d.col_rows(), KK = d.KH * d.KW, P = d.out_pixels(), ld = B * P;
  // One sample is computed in place, after the bias; several go through out (Cout, B*P).
  Scalar* out = B == 1 ? y : workspace(kMat, d.Cout * ld);
  bool add = B == 1 && accumulate;
  if (B == 1 && b != nullptr) {
    for (int64_t c = 0; c < d.Cout; ++c) {
      Scalar* r = out + c * P;
      for (int64_t j = 0; j < P; ++j) r[j] = (accumulate ? r[j] : Scalar(0)) + b[c];
    }
    add = true;
  }
  if (is_pointwise(d) && B == 1) {
    gemm_threaded(out, ld, {w, K, false}, {x, P, false}, d.Cout, P, K, add);
#ifndef SNGAN_SCALAR_DOUBLE
  } else if (implicit_im2col(d)) {
    const Im2colView view = im2col_view(x, d, B);
    Operand col{nullptr, ld, false};
    col.view = &view;
    gemm_threaded(out, ld, packs.operand(w, K, false, 0, d.Cin), col, d.Cout, ld, K, add);
#endif
  } else {
    const int64_t cb = channel_block(d, ld);
    for (int64_t c0 = 0; c0 < d.Cin; c0 += cb) {
      const int64_t c1 = std::min(c0 + cb, d.Cin), rows = (c1 - c0) * KK;
      Scalar* col = workspace(kCol, rows * ld);  // (rows, B*P)
      chunk_im2col(col, x, d, B, c0, c1);
      gemm_threaded(out, ld, packs.operand(w + c0 * KK, K, false, c0, cb), {col, ld, false},
                    d.Cout, ld, rows, add || c0 > 0);
    }
  }
  if (B == 1) return;
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t c = 0; c < d.Cout; ++c) {
      Scalar* dst = y + (i * d.Cout + c) * P;
      const Scalar* src = out + c * ld + i * P;
      const Scalar bc = b != nullptr ? b[c] : Scalar(0);
      if (accumulate) {
        for (int64_t j = 0; j < P; ++j) dst[j] += src[j] + bc;
      } else {
        for (int64_t j = 0; j < P; ++j) dst[j] = src[j] + bc;
      }
    }
  }
}

// The chunk's dy (B, Cout, P) as one (Cout, B*P) matrix: dy itself for one sample.
const Scalar* chunk_dy(const Scalar* dy, const Conv2dDims& d, int64_t B) {
  if (B == 1) return dy;
  const int64_t P = d.out_pixels();
  Scalar* t = workspace(kMat, d.Cout * B * P);
  gather(t, dy, B, d.Cout, P);
  return t;
}

// dx (B, Cin, H, W) of the chunk (=|+=) col2im(W^T dy).
void backward_input_chunk(Scalar* dx, const Scalar* dy, const Scalar* w, const Conv2dDims& d,
                          int64_t B, bool accumulate, const WeightPacks& packs) {
  const int64_t K = d.col_rows(), KK = d.KH * d.KW, P = d.out_pixels(), ld = B * P;
  const Scalar* dym = chunk_dy(dy, d, B);  // (Cout, B*P)
  if (is_pointwise(d) && B == 1) {
    gemm_threaded(dx, P, {w, K, true}, {dym, ld, false}, K, P, d.Cout, accumulate);
    return;
  }
  const int64_t cb = channel_block(d, ld), xs = d.Cin * d.H * d.W;
  for (int64_t c0 = 0; c0 < d.Cin; c0 += cb) {
    const int64_t c1 = std::min(c0 + cb, d.Cin), rows = (c1 - c0) * KK;
    Scalar* dcol = workspace(kCol, rows * ld);  // (rows, B*P)
    gemm_threaded(dcol, ld, packs.operand(w + c0 * KK, K, true, c0, cb), {dym, ld, false},
                  rows, ld, d.Cout, false);
    for (int64_t i = 0; i < B; ++i)
      col2im(dcol + i * P, ld, dx + i * xs + c0 * d.H * d.W, d, c1 - c0, accumulate);
  }
}

// part (Cout, K) (=|+=) dy * im2col(x)^T summed over the chunk's samples.
void backward_weight_chunk(Scalar* part, const Scalar* dy, const Scalar* x, const Conv2dDims& d,
                           int64_t B, bool accumulate) {
  const int64_t K = d.col_rows(), KK = d.KH * d.KW, P = d.out_pixels(), ld = B * P;
  const Scalar* dym = chunk_dy(dy, d, B);  // (Cout, B*P)
  if (is_pointwise(d) && B == 1) {
    gemm_threaded(part, K, {dym, ld, false}, {x, P, true}, d.Cout, K, P, accumulate);
    return;
  }
#ifndef SNGAN_SCALAR_DOUBLE
  if (implicit_im2col(d)) {
    const Im2colView view = im2col_view(x, d, B);
    Operand col{nullptr, ld, true};
    col.view = &view;
    gemm_threaded(part, K, {dym, ld, false}, col, d.Cout, K, ld, accumulate);
    return;
  }
#endif
  const int64_t cb = channel_block(d, ld);
  for (int64_t c0 = 0; c0 < d.Cin; c0 += cb) {
    const int64_t c1 = std::min(c0 + cb, d.Cin), rows = (c1 - c0) * KK;
    Scalar* col = workspace(kCol, rows * ld);  // (rows, B*P)
    chunk_im2col(col, x, d, B, c0, c1);
    gemm_threaded(part + c0 * KK, K, {dym, ld, false}, {col, ld, true}, d.Cout, rows, ld,
                  accumulate);
  }
}

// ---- batch split ----
// Chunks of B samples (the last may be shorter), run by `threads` OpenMP threads with
// single-threaded GEMMs; threads == 1 runs chunks in order with GEMMs split over the threads.
// The chunks (and so every GEMM's shape and every sum's order) are planned for kPlanThreads
// whatever the actual thread count, so results do not depend on it; only who runs what does.
// The weight gradient sums its chunks in `groups` partials (at most kPlanThreads), added in
// group order. 2 plans at least two chunks per layer when the batch allows and keeps a single
// extra weight-sized buffer (measured: a plan for 4 added 18 MiB to the standard-CNN
// benchmark's peak memory for no gain on 2 threads); with more threads than chunks, the
// chunks run in turn with their GEMMs split over the threads.
constexpr int64_t kPlanThreads = 2;

struct Plan {
  int64_t B = 1, chunks = 1, groups = 1;
  int threads = 1;
};

Plan make_plan(const Conv2dDims& d) {
  const int64_t P = d.out_pixels();
  const double macs = double(d.N) * double(d.Cout) * double(P) * double(d.col_rows());
  // Below ~1M multiply-adds a parallel region costs more than it saves.
  const int64_t T = macs < 1e6 ? 1 : kPlanThreads;
  int64_t B = std::max<int64_t>(1, (kTargetCols + P - 1) / P);
  B = std::min(B, (d.N + T - 1) / T);  // leave work for every thread when the batch allows
  const int64_t rounds = (d.N + T * B - 1) / (T * B);  // then balance the chunks over threads
  B = (d.N + T * rounds - 1) / (T * rounds);
  Plan plan;
  plan.B = B;
  plan.chunks = (d.N + B - 1) / B;
  plan.groups = std::min(plan.chunks, T);
  const int threads = omp_get_level() > 0 || macs < 1e6 ? 1 : std::max(1, omp_get_max_threads());
  plan.threads = plan.chunks >= threads ? threads : 1;
  return plan;
}

// W's blocks (the forward operand) or W^T's (backward_input's, `transposed`) packed for the
// plan's chunks, when the GEMMs run on the AVX-512 fp32 kernel or a native bf16 engine and more than
// one chunk shares them.
WeightPacks pack_weights(const Scalar* w, const Conv2dDims& d, const Plan& plan, bool transposed) {
  WeightPacks packs;
#ifndef SNGAN_SCALAR_DOUBLE
  const bool fp32 = precision() == Precision::kFp32 && avx512_path();
  const bool bf16 = precision() == Precision::kBf16 && native_bf16_path();
  if ((!fp32 && !bf16) || plan.chunks < 2 || (is_pointwise(d) && plan.B == 1)) return packs;
  const int64_t K = d.col_rows(), KK = d.KH * d.KW;
  packs.cb = !transposed && implicit_im2col(d) ? d.Cin : channel_block(d, plan.B * d.out_pixels());
  const int64_t blocks = (d.Cin + packs.cb - 1) / packs.cb;
  // Block i's operand: W's rows of its channels (M = Cout, depth = rows), or W^T's.
  auto rows_of = [&](int64_t i) { return (std::min((i + 1) * packs.cb, d.Cin) - i * packs.cb) * KK; };
  auto m_of = [&](int64_t i) { return transposed ? rows_of(i) : d.Cout; };
  auto k_of = [&](int64_t i) { return transposed ? d.Cout : rows_of(i); };
  // Block i packed into `store` (the calling thread's; the chunks' threads only read it) from
  // `buffer`, `size(m, k)` elements per block, by `pack(dst, a, lda, ta, m, k)`.
  auto pack_blocks = [&](auto& store, auto& buffer, auto size, auto pack) {
    int64_t total = 0;
    for (int64_t i = 0; i < blocks; ++i) total += size(m_of(i), k_of(i));
    if (static_cast<int64_t>(buffer.size()) < total) buffer.resize(static_cast<size_t>(total));
    auto* dst = buffer.data();
    store.resize(static_cast<size_t>(blocks));
    for (int64_t i = 0; i < blocks; ++i) {
      store[static_cast<size_t>(i)] = pack(dst, w + i * packs.cb * KK, K, transposed, m_of(i), k_of(i));
      dst += size(m_of(i), k_of(i));
    }
    return store.data();
  };
  if (fp32) {
    thread_local std::vector<PackedA> store;
    thread_local std::vector<float> buffer;  // about the weights' size
    packs.fp32 = pack_blocks(store, buffer, packed_a_floats, pack_a_operand);
  } else {
    thread_local std::vector<PackedBf16A> store;
    thread_local std::vector<uint16_t> buffer;  // about half the weights' size
    packs.bf16 = pack_blocks(store, buffer, packed_bf16_a_elems, pack_bf16_a_operand);
  }
#else
  (void)w, (void)d, (void)plan, (void)transposed;
#endif
  return packs;
}

// f(n0, B) for every chunk. No parallel region at all for one thread: GEMMs inside even an
// inactive region would start a nested team (fresh threads, fresh workspaces) on every call.
template <typename F>
void for_each_chunk(const Plan& plan, int64_t N, F&& f) {
  if (plan.threads == 1) {
    for (int64_t i = 0; i < plan.chunks; ++i) f(i * plan.B, std::min(plan.B, N - i * plan.B));
    return;
  }
#pragma omp parallel for schedule(static) num_threads(plan.threads)
  for (int64_t i = 0; i < plan.chunks; ++i) f(i * plan.B, std::min(plan.B, N - i * plan.B));
}

// ---- backward_input without col2im ----
// dx's phase plane (a, b), its pixels (s*i + a, s*j + b) (dx itself when s == 1), is a stride-1
// correlation of dy with the taps (kh, kw) = (a + pad_h, b + pad_w) mod s:
//   dx(ci, s*i + a, s*j + b) = sum over co and those taps of w(co, ci, kh, kw) * dy(co, i + dh, j + dw),
// dh = (a + pad_h - kh) / s, dw = (b + pad_w - kw) / s. On the engines that read views, where
// dy's width equals the phase planes' (every "same" conv and 4x4 stride-2 pad-1 on even sizes), each
// phase is one GEMM of its weights (Cin, Cout*taps), packed once per call, with a view of dy,
// writing (Cin, B*Hs*Ws): dx's size in all, where the col2im path writes a column matrix
// KH*KW times that and adds it back.
#ifndef SNGAN_SCALAR_DOUBLE
// A phase GEMM has one row per input channel: with few channels (an RGB or grey first
// layer) it wastes most of its micro-tiles, and GEMM + col2im (Cin*KH*KW rows) wins. Measured
// with conv_bench, 3x3 pad 1 at 32x32, Cout 64, batch 64, 2 threads (AMD EPYC Zen 4), one run
// each, phases vs col2im: fp32 Cin 3 4.9 vs 1.7 ms, Cin 8 6.5 vs 3.9, Cin 16 9.6 vs 6.9, Cin 32
// 14.5 vs 13.5, Cin 64 26.9 vs 26.0; bf16 (dot products) Cin 3 3.4 vs 1.4, Cin 8 4.7 vs 3.9,
// Cin 16 5.3 vs 6.9, Cin 32 8.6 vs 11.9. From 32 channels col2im is at most 4-7% faster in
// fp32, and the phases keep the smaller workspace (no column matrix KH*KW times dx's size).
// Other shapes (stride 2, the AMX engine) were not measured for this threshold.
int64_t min_phase_channels() { return precision() == Precision::kBf16 ? 16 : 32; }

bool implicit_col2im(const Conv2dDims& d) {
  return views_served() && d.Cin >= min_phase_channels() && d.stride <= d.KH && d.stride <= d.KW &&
         phase_cols(d) == d.Wout && phase_rows(d) * phase_cols(d) % 16 == 0;
}

// Phase (a, b)'s taps, as views take them (plane 0: dy's channel; output pixels (i, j) of the
// Hs x Ws phase plane that read inside dy), and their kernel positions kh*KW + kw.
void phase_taps(const Conv2dDims& d, int64_t a, int64_t b, std::vector<Tap>& taps,
                std::vector<int64_t>& kpos) {
  const int64_t s = d.stride, Hs = phase_rows(d), Ws = phase_cols(d);
  taps.clear(), kpos.clear();
  for (int64_t kh = 0; kh < d.KH; ++kh) {
    if ((a + d.pad_h - kh) % s != 0) continue;
    for (int64_t kw = 0; kw < d.KW; ++kw) {
      if ((b + d.pad_w - kw) % s != 0) continue;
      Tap t;
      t.plane = 0, t.dh = (a + d.pad_h - kh) / s, t.dw = (b + d.pad_w - kw) / s;
      t.i0 = std::clamp<int64_t>(-t.dh, 0, Hs);
      t.i1 = std::clamp<int64_t>(d.Hout - t.dh, t.i0, Hs);
      t.j0 = std::clamp<int64_t>(-t.dw, 0, Ws);
      t.j1 = std::clamp<int64_t>(d.Wout - t.dw, t.j0, Ws);
      if (t.j0 == t.j1) t.i1 = t.i0;
      taps.push_back(t);
      kpos.push_back(kh * d.KW + kw);
    }
  }
}

// dx (B, Cin, H, W) (=|+=) the phase planes out (s*s, Cin, B*Hs*Ws) put back in place.
void merge_phase_planes(const Scalar* out, Scalar* dx, const Conv2dDims& d, int64_t B,
                        bool accumulate) {
  const int64_t s = d.stride, Hs = phase_rows(d), Ws = phase_cols(d), Q = Hs * Ws, ld = B * Q;
  const int64_t phase = d.Cin * ld;  // floats per phase
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t c = 0; c < d.Cin; ++c) {
      for (int64_t r = 0; r < d.H; ++r) {
        Scalar* __restrict dst = dx + ((i * d.Cin + c) * d.H + r) * d.W;
        const Scalar* row = out + (r % s) * s * phase + c * ld + i * Q + (r / s) * Ws;
        if (s == 1) {
          if (accumulate) VecMap(dst, d.W) += ConstVecMap(row, d.W);
          else copy(dst, row, d.W);
        } else if (s == 2) {  // columns 2j and 2j + 1 from phases (a, 0) and (a, 1)
          const Scalar* __restrict p0 = row;
          const Scalar* __restrict p1 = row + phase;
          const int64_t pairs = d.W / 2;
          if (accumulate) {
            for (int64_t j = 0; j < pairs; ++j) dst[2 * j] += p0[j], dst[2 * j + 1] += p1[j];
          } else {
            for (int64_t j = 0; j < pairs; ++j) dst[2 * j] = p0[j], dst[2 * j + 1] = p1[j];
          }
          if (d.W % 2 != 0) dst[d.W - 1] = (accumulate ? dst[d.W - 1] : Scalar(0)) + p0[pairs];
        } else {
          for (int64_t col = 0; col < d.W; ++col) {
            const Scalar v = row[(col % s) * phase + col / s];
            dst[col] = accumulate ? dst[col] + v : v;
          }
        }
      }
    }
  }
}

// One phase's taps for rearrange_kernels_of_channel: its rearranged weights start at
// `offset`, and its `taps` taps are the kernel positions kpos[0..taps).
struct PhaseTaps {
  int64_t offset = 0, taps = 0;
  int32_t kpos[16] = {};
};

// backward_input_phases' rearrangement, out(phase)[ci][co][t] = w[co][ci][kpos(phase)[t]], of
// input channel ci for kernels of at most 16 taps (every 3x3 and 4x4 conv; views imply
// AVX-512), so at most 16 phases (stride <= kernel size): one masked load per (co, ci) kernel,
// one permute and one masked store per phase. The element-wise loop ran scalar: most of
// backward_input_phases' own 3.3% of a bf16 cnn_c step (perf profile of `sngan bench`, AMD EPYC
// Zen 4).
__attribute__((target("avx512f"))) void rearrange_kernels_of_channel(float* out, const float* w,
                                                                    const Conv2dDims& d, int64_t ci,
                                                                    const PhaseTaps* phases,
                                                                    int64_t n) {
  const int64_t KK = d.KH * d.KW;
  const __mmask16 whole = avx512::lanes(KK);
  __m512i index[16];
  for (int64_t p = 0; p < n; ++p) index[p] = _mm512_loadu_si512(phases[p].kpos);
  for (int64_t co = 0; co < d.Cout; ++co) {
    const __m512 kernel = _mm512_maskz_loadu_ps(whole, w + (co * d.Cin + ci) * KK);
    for (int64_t p = 0; p < n; ++p) {
      float* dst = out + phases[p].offset + (ci * d.Cout + co) * phases[p].taps;
      _mm512_mask_storeu_ps(dst, avx512::lanes(phases[p].taps), _mm512_permutexvar_ps(index[p], kernel));
    }
  }
}

void backward_input_phases(Scalar* dx, const Scalar* dy, const Scalar* w, const Conv2dDims& d,
                           bool accumulate) {
  const int64_t s = d.stride, P = d.out_pixels(), Q = phase_rows(d) * phase_cols(d);
  const int64_t xs = d.Cin * d.H * d.W, ys = d.Cout * P;
  struct Phase {
    std::vector<Tap> taps;
    std::vector<int64_t> kpos;
    int64_t weights = 0, packed = 0;  // where its (Cin, Cout*taps) weights and their packing start
    PackedA fp32;                     // packed for the GEMM engine in use
    PackedBf16A bf16;
  };
  const bool bf16 = precision() == Precision::kBf16;
  std::vector<Phase> phases(static_cast<size_t>(s * s));
  thread_local std::vector<float> weights;    // all phases' rearranged weights
  thread_local std::vector<float> packed_fp32;  // and packed
  thread_local std::vector<uint16_t> packed_bf16;
  int64_t nw = 0, np = 0;
  for (size_t p = 0; p < phases.size(); ++p) {
    Phase& ph = phases[p];
    phase_taps(d, static_cast<int64_t>(p) / s, static_cast<int64_t>(p) % s, ph.taps, ph.kpos);
    const int64_t depth = d.Cout * static_cast<int64_t>(ph.kpos.size());
    ph.weights = nw, ph.packed = np;
    nw += d.Cin * depth;
    np += bf16 ? packed_bf16_a_elems(d.Cin, depth) : packed_a_floats(d.Cin, depth);
  }
  if (static_cast<int64_t>(weights.size()) < nw) weights.resize(static_cast<size_t>(nw));
  if (bf16 && static_cast<int64_t>(packed_bf16.size()) < np) packed_bf16.resize(static_cast<size_t>(np));
  if (!bf16 && static_cast<int64_t>(packed_fp32.size()) < np) packed_fp32.resize(static_cast<size_t>(np));
  // One pass over w: each (co, ci) kernel's taps go to every phase's row ci, in order.
  // (The buffers are this thread's: the other threads take their addresses from it.)
  float* const rearranged = weights.data();
  const bool par = omp_get_level() == 0 && nw >= (int64_t(1) << 16);
  if (d.KH * d.KW <= 16) {
    SNGAN_CHECK(phases.size() <= 16, "backward_input_phases: ", phases.size(), " phases for ",
                d.KH, "x", d.KW, " kernels");
    std::array<PhaseTaps, 16> taps;
    for (size_t p = 0; p < phases.size(); ++p) {
      taps[p].offset = phases[p].weights;
      taps[p].taps = static_cast<int64_t>(phases[p].kpos.size());
      std::copy(phases[p].kpos.begin(), phases[p].kpos.end(), taps[p].kpos);
    }
    const int64_t n = static_cast<int64_t>(phases.size());
#pragma omp parallel for schedule(static) if (par)
    for (int64_t ci = 0; ci < d.Cin; ++ci) rearrange_kernels_of_channel(rearranged, w, d, ci, taps.data(), n);
  } else {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t ci = 0; ci < d.Cin; ++ci) {
      for (int64_t co = 0; co < d.Cout; ++co) {
        const Scalar* kernel = w + (co * d.Cin + ci) * d.KH * d.KW;
        for (const Phase& ph : phases) {
          const int64_t T = static_cast<int64_t>(ph.kpos.size());
          float* dst = rearranged + ph.weights + (ci * d.Cout + co) * T;
          for (int64_t t = 0; t < T; ++t) dst[t] = kernel[ph.kpos[static_cast<size_t>(t)]];
        }
      }
    }
  }
  for (Phase& ph : phases) {
    const int64_t depth = d.Cout * static_cast<int64_t>(ph.kpos.size());
    const float* a = weights.data() + ph.weights;
    if (bf16) ph.bf16 = pack_bf16_a_operand(packed_bf16.data() + ph.packed, a, depth, false, d.Cin, depth);
    else ph.fp32 = pack_a_operand(packed_fp32.data() + ph.packed, a, depth, false, d.Cin, depth);
  }
  const Plan plan = make_plan(d);
  for_each_chunk(plan, d.N, [&](int64_t n0, int64_t B) {
    const int64_t ld = B * Q;
    Scalar* out = workspace(kMat, s * s * d.Cin * ld);  // (s*s, Cin, B*Q)
    for (size_t p = 0; p < phases.size(); ++p) {
      const int64_t T = static_cast<int64_t>(phases[p].taps.size());
      const ViewTables& t = view_tables(B, ys, d.Cout, 1, P, d.Wout, Q, phases[p].taps.data(), T);
      const Im2colView view = make_view(dy + n0 * ys, t, d.Cout * T, ld);
      Operand a{nullptr, 0, false};
      if (bf16) a.packed_bf16 = &phases[p].bf16;
      else a.packed = &phases[p].fp32;
      Operand col{nullptr, ld, false};
      col.view = &view;
      gemm_threaded(out + static_cast<int64_t>(p) * d.Cin * ld, ld, a, col, d.Cin, ld, d.Cout * T, false);
    }
    merge_phase_planes(out, dx + n0 * xs, d, B, accumulate);
  });
}
#endif

}  // namespace

// ---- Winograd ----
// Winograd (winograd.h) serves in fp32 on the AVX-512 kernel and in bf16 on the native bf16
// engines (where the CPU has AVX-512F for the transforms), with at least kWinogradChannels
// input and output channels: F(2x2, 3x3) for 3x3 stride-1 "same" convs on even sizes, F(2x2, 2x2)
// for 4x4 stride-2 pad-1 convs on sizes that are multiples of 4.
// conv_bench, 2 threads, batch 64, ms forward / input gradient / weight gradient, im2col + GEMM
// against Winograd (AMD EPYC Zen 4, two alternating runs): 32 -> 32 channels at 32x32 6.7-7.3 /
// 7.5-10.0 / 7.9-9.4 against 6.1-6.7 / 6.2-7.0 / 7.4-8.1; 64 -> 128 at 16x16 12.4-12.5 /
// 14.5-14.8 / 13.3-13.4 against 7.7 / 8.3-8.4 / 9.5-9.7; 256 -> 512 at 4x4 11.6-12.1 /
// 12.8-13.7 / 12.9-13.2 against 7.8-7.9 / 7.6-8.0 / 8.3-8.5. 16 -> 16 at 32x32 lost (forward
// 2.7-3.0 against 3.0, input gradient 3.6 against 3.7-4.1). The floor was measured on 3x3
// convs; F(2x2, 2x2) also wins at it (4x4 stride 2, 32 -> 32 at 32x32: 3.1-3.6 / 3.8-3.8 /
// 3.8-4.0 against 2.2-2.4 / 2.3-2.5 / 2.6-2.8 ms; at 16x16 0.74 / 0.83-0.84 / 0.89 against
// 0.56 / 0.60 / 0.63-0.66), below 32 not measured. In bf16 (dot products), 32 -> 32 at
// 32x32: 3x3 4.0-4.4 / 4.7-5.6 / 4.4-4.7 against 4.0-4.5 / 3.9-4.7 / 4.1-4.9 ms (a tie), 4x4
// stride 2 2.5 / 2.6-2.7 / 2.8 against 1.9-2.2 / 2.1-2.7 / 2.1-2.6.
constexpr int64_t kWinogradChannels = 32;
bool winograd_serves(const Conv2dDims& d) {
#ifdef SNGAN_SCALAR_DOUBLE
  (void)d;
  return false;
#else
  const bool gemms = precision() == Precision::kFp32 ? avx512_path() : native_bf16_path() && fp32_gemm_on_avx512();
  return !g_disable_winograd.load(std::memory_order_relaxed) && gemms &&
         (winograd_shape(d) || winograd_stride2_shape(d)) &&
         std::min(d.Cin, d.Cout) >= kWinogradChannels;
#endif
}

int64_t conv_multiply_adds(const Conv2dDims& d, ConvProduct product) {
  const int64_t direct = d.N * d.Cout * d.Hout * d.Wout * d.Cin * d.KH * d.KW;
#ifdef SNGAN_SCALAR_DOUBLE
  (void)product;
  return direct;
#else
  if (!winograd_serves(d)) return direct;
  bool large = false;
  if (precision() == Precision::kFp32) {
    if (!winograd_shape(d)) {
      large = winograd_stride2_wide_shape(d);
    } else {
      large = product == ConvProduct::kWeightGradient ? winograd_wide_weight_gradient_shape(d) : winograd_wide_shape(d);
    }
  }
  const int64_t m = large ? 4 : 2;  // the output blocks' side
  const int64_t per_block = d.KH == 3 ? (m + 2) * (m + 2) : 4 * (m + 1) * (m + 1);
  return d.N * (d.Hout / m) * (d.Wout / m) * d.Cout * d.Cin * per_block;
#endif
}

#ifndef SNGAN_SCALAR_DOUBLE
namespace {
// The GEMMs of a conv that winograd_serves, in the current precision.
WinogradGemms winograd_gemms() {
  if (precision() == Precision::kFp32) return {};
  return {true, packed_engine()};
}
}  // namespace
#endif

void matmul(Scalar* y, const Scalar* a, const Scalar* b, int64_t M, int64_t K, int64_t N,
            bool trans_a, bool trans_b, bool accumulate) {
  gemm_threaded(y, N, {a, trans_a ? M : K, trans_a}, {b, trans_b ? K : N, trans_b}, M, N, K,
                accumulate);
}

void conv2d_forward(Scalar* y, const Scalar* x, const Scalar* w, const Scalar* b,
                    const Conv2dDims& d, bool accumulate) {
#ifndef SNGAN_SCALAR_DOUBLE
  if (winograd_serves(d)) {
    if (winograd_shape(d)) {
      winograd_forward(y, x, w, b, d, accumulate, winograd_gemms());
    } else if (precision() == Precision::kFp32 && winograd_stride2_wide_shape(d)) {
      winograd_stride2_wide_forward(y, x, w, b, d, accumulate);
    } else {
      winograd_stride2_forward(y, x, w, b, d, accumulate, winograd_gemms());
    }
    return;
  }
#endif
  const int64_t xs = d.Cin * d.H * d.W, ys = d.Cout * d.out_pixels();
  const Plan plan = make_plan(d);
  const WeightPacks packs = pack_weights(w, d, plan, false);
  for_each_chunk(plan, d.N, [&](int64_t n0, int64_t B) {
    forward_chunk(y + n0 * ys, x + n0 * xs, w, b, d, B, accumulate, packs);
  });
}

void conv2d_backward_input(Scalar* dx, const Scalar* dy, const Scalar* w, const Conv2dDims& d,
                           bool accumulate) {
#ifndef SNGAN_SCALAR_DOUBLE
  if (winograd_serves(d)) {
    if (winograd_shape(d)) {
      winograd_backward_input(dx, dy, w, d, accumulate, winograd_gemms());
    } else if (precision() == Precision::kFp32 && winograd_stride2_wide_shape(d)) {
      winograd_stride2_wide_backward_input(dx, dy, w, d, accumulate);
    } else {
      winograd_stride2_backward_input(dx, dy, w, d, accumulate, winograd_gemms());
    }
    return;
  }
  if (implicit_col2im(d)) {
    backward_input_phases(dx, dy, w, d, accumulate);
    return;
  }
#endif
  const int64_t xs = d.Cin * d.H * d.W, ys = d.Cout * d.out_pixels();
  const Plan plan = make_plan(d);
  const WeightPacks packs = pack_weights(w, d, plan, true);
  for_each_chunk(plan, d.N, [&](int64_t n0, int64_t B) {
    backward_input_chunk(dx + n0 * xs, dy + n0 * ys, w, d, B, accumulate, packs);
  });
}

void conv2d_backward_weight(Scalar* dw, const Scalar* dy, const Scalar* x, const Conv2dDims& d,
                            bool accumulate) {
#ifndef SNGAN_SCALAR_DOUBLE
  if (winograd_serves(d)) {
    if (winograd_shape(d)) {
      winograd_backward_weight(dw, dy, x, d, accumulate, winograd_gemms());
    } else {
      winograd_stride2_backward_weight(dw, dy, x, d, accumulate, winograd_gemms());
    }
    return;
  }
#endif
  const Plan plan = make_plan(d);
  const int64_t xs = d.Cin * d.H * d.W, ys = d.Cout * d.out_pixels(), wn = d.Cout * d.col_rows();
  auto chunk = [&](Scalar* part, int64_t i, bool add) {
    const int64_t n0 = i * plan.B;
    backward_weight_chunk(part, dy + n0 * ys, x + n0 * xs, d, std::min(plan.B, d.N - n0), add);
  };
  if (plan.groups == 1) {
    for (int64_t i = 0; i < plan.chunks; ++i) chunk(dw, i, accumulate || i > 0);
    return;
  }
  // Group g sums chunks [first, last) into its own partial; the partials are then added in
  // group order, so neither the thread count nor the scheduling changes the result. Without
  // accumulation, group 0 sums straight into dw.
  const int64_t own = accumulate ? 0 : 1;  // groups without a partial buffer
  Scalar* parts = workspace(kPart, (plan.groups - own) * wn);
  auto partial = [&](int64_t g) { return g < own ? dw : parts + (g - own) * wn; };
  auto group = [&](int64_t g) {
    const int64_t first = plan.chunks * g / plan.groups, last = plan.chunks * (g + 1) / plan.groups;
    for (int64_t i = first; i < last; ++i) chunk(partial(g), i, i > first);
  };
  // The groups in parallel, one thread each, when there are no more threads than groups;
  // otherwise (or on one thread) the groups in turn, each with its GEMMs split over the threads.
  const int threads = omp_get_level() > 0 ? 1 : omp_get_max_threads();
  if (threads <= 1 || threads > plan.groups) {
    for (int64_t g = 0; g < plan.groups; ++g) group(g);
  } else {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t g = 0; g < plan.groups; ++g) group(g);
  }
  // dw (=|+=) partial 0 + partial 1 + ..., in blocks of whole vectors (an element-wise loop
  // over the groups did not vectorise: 2.7% of a bf16 cnn_c step in a perf profile of `sngan
  // bench`, AMD EPYC Zen 4).
  constexpr int64_t kSumBlock = 1024;
  const int64_t blocks = (wn + kSumBlock - 1) / kSumBlock;
  const bool par = omp_get_level() == 0 && wn >= (int64_t(1) << 16);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t j0 = i * kSumBlock, n = std::min(kSumBlock, wn - j0);
    alignas(64) Scalar block[kSumBlock];
    VecMap s(block, n);
    s = ConstVecMap(partial(0) + j0, n);  // partial 0 may be dw itself: read before the write
    for (int64_t g = 1; g < plan.groups; ++g) s += ConstVecMap(partial(g) + j0, n);
    if (accumulate) VecMap(dw + j0, n) += s;
    else VecMap(dw + j0, n) = s;
  }
}

void conv2d_backward_bias(Scalar* db, const Scalar* dy, const Conv2dDims& d, bool accumulate) {
  const int64_t P = d.out_pixels();
  const bool par = omp_get_level() == 0 && d.N * d.Cout * P >= (int64_t(1) << 16);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t c = 0; c < d.Cout; ++c) {
    Scalar s = 0;
    for (int64_t n = 0; n < d.N; ++n) s += ConstVecMap(dy + (n * d.Cout + c) * P, P).sum();
    db[c] = accumulate ? db[c] + s : s;
  }
}

}  // namespace sngan::kernels
