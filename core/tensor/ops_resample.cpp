// 3x3 convolutions fused with 2x resampling: conv after a nearest 2x upsample (the ResNet
// generator's blocks) and 2x average pooling after a conv (the ResNet discriminator's
// downsampling blocks). Both fold the resampling into the kernel, so the conv runs on the
// small side with fewer multiply-adds; the values equal the unfused pair up to float rounding.
// Every piece is a linear, differentiable op whose backward is its adjoint (a closed family,
// like the convs), so gradients can be differentiated again.
#include <memory>
#include <vector>

#include "core/tensor/ops.h"

namespace sngan {

namespace {

// A linear map between kernels: out (P*O, I, oh, ow) += coeff * in (O, I, ih, iw) for every
// tap (phase p, out position, in position).
struct KernelTap {
  int64_t phase, out_pos, in_pos;  // positions are row-major within a kernel
  Scalar coeff;
};
struct KernelRemap {
  int64_t phases, in_h, in_w, out_h, out_w;
  std::vector<KernelTap> taps;
};

Var remap_kernel_adjoint(const Var& g, const std::shared_ptr<const KernelRemap>& m);

// w (O, I, in_h, in_w) -> (P*O, I, out_h, out_w).
Var remap_kernel(const Var& w, const std::shared_ptr<const KernelRemap>& m) {
  SNGAN_CHECK(w.shape().ndim() == 4 && w.dim(2) == m->in_h && w.dim(3) == m->in_w,
              "remap_kernel: expected a weight (O, I, ", m->in_h, ", ", m->in_w, "), got ",
              w.shape().str());
  const int64_t O = w.dim(0), I = w.dim(1), kin = m->in_h * m->in_w, kout = m->out_h * m->out_w;
  Tensor out = Tensor::zeros(Shape{m->phases * O, I, m->out_h, m->out_w});
  const Scalar* pw = w.value().data();
  Scalar* po = out.data();
  for (int64_t oi = 0; oi < O * I; ++oi)
    for (const KernelTap& t : m->taps)
      po[(t.phase * O * I + oi) * kout + t.out_pos] += t.coeff * pw[oi * kin + t.in_pos];
  return Var::make_op(std::move(out), "remap_kernel", {w}, [m](const Var& g) {
    return std::vector<Var>{remap_kernel_adjoint(g, m)};
  });
}

// The adjoint: g (P*O, I, out_h, out_w) -> (O, I, in_h, in_w).
Var remap_kernel_adjoint(const Var& g, const std::shared_ptr<const KernelRemap>& m) {
  const int64_t O = g.dim(0) / m->phases, I = g.dim(1), kin = m->in_h * m->in_w,
                kout = m->out_h * m->out_w;
  Tensor out = Tensor::zeros(Shape{O, I, m->in_h, m->in_w});
  const Scalar* pg = g.value().data();
  Scalar* po = out.data();
  for (int64_t oi = 0; oi < O * I; ++oi)
    for (const KernelTap& t : m->taps)
      po[oi * kin + t.in_pos] += t.coeff * pg[(t.phase * O * I + oi) * kout + t.out_pos];
  return Var::make_op(std::move(out), "remap_kernel_adjoint", {g}, [m](const Var& gg) {
    return std::vector<Var>{remap_kernel(gg, m)};
  });
}

// conv3x3(upsample2(x)): output row 2i + a reads upsampled row 2i + a - 1 + kh, which is x row
// i + floor((a + kh - 1) / 2): for a = 0 rows i - 1 (kh 0) and i (kh 1, 2), for a = 1 rows i
// (kh 0, 1) and i + 1 (kh 2). A 2x2 kernel with pad 1 at output row i + a reads x rows
// i + a - 1 + r, so kh lands on r = 0, 1, 1 (a = 0) or 0, 0, 1 (a = 1); the same for columns.
// Phase p = 2a + b holds the 2x2 kernel of the output pixels (2i + a, 2j + b).
std::shared_ptr<const KernelRemap> upsample_fold() {
  static const auto map = [] {
    auto m = std::make_shared<KernelRemap>();
    m->phases = 4, m->in_h = m->in_w = 3, m->out_h = m->out_w = 2;
    auto r_of = [](int64_t a, int64_t k) { return a == 0 ? (k == 0 ? 0 : 1) : (k == 2 ? 1 : 0); };
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t kh = 0; kh < 3; ++kh)
          for (int64_t kw = 0; kw < 3; ++kw)
            m->taps.push_back({2 * a + b, r_of(a, kh) * 2 + r_of(b, kw), kh * 3 + kw, Scalar(1)});
    return m;
  }();
  return map;
}

// avgpool2(conv3x3(x)): output (p, q) averages conv outputs (2p + dy, 2q + dx), which read x
// rows 2p - 1 + dy + kh: a 4x4 stride-2 kernel with entry (dy + kh, dx + kw) += w / 4.
std::shared_ptr<const KernelRemap> avgpool_fold() {
  static const auto map = [] {
    auto m = std::make_shared<KernelRemap>();
    m->phases = 1, m->in_h = m->in_w = 3, m->out_h = m->out_w = 4;
    for (int64_t dy = 0; dy < 2; ++dy)
      for (int64_t dx = 0; dx < 2; ++dx)
        for (int64_t kh = 0; kh < 3; ++kh)
          for (int64_t kw = 0; kw < 3; ++kw)
            m->taps.push_back({0, (dy + kh) * 4 + (dx + kw), kh * 3 + kw, Scalar(0.25)});
    return m;
  }();
  return map;
}

// f(z index, y index) for every element of y (N, C, 2H, 2W) and the element of z
// (N, 4C, H+1, W+1) it comes from: y[n, c, 2i+a, 2j+b] = z[n, (2a+b)C + c, i+a, j+b].
template <typename F>
void for_each_phase_element(int64_t N, int64_t C, int64_t H, int64_t W, F f) {
#pragma omp parallel for schedule(static) if (N * C > 16)
  for (int64_t nc = 0; nc < N * C; ++nc) {
    const int64_t n = nc / C, c = nc % C;
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < 2; ++b) {
        const int64_t z0 = ((n * 4 * C + (2 * a + b) * C + c) * (H + 1) + a) * (W + 1) + b;
        const int64_t y0 = (nc * 2 * H + a) * 2 * W + b;
        for (int64_t i = 0; i < H; ++i)
          for (int64_t j = 0; j < W; ++j) f(z0 + i * (W + 1) + j, y0 + 2 * i * 2 * W + 2 * j);
      }
  }
}

Var deinterleave_phases(const Var& y);

// z (N, 4C, H+1, W+1) -> y (N, C, 2H, 2W) (see for_each_phase_element).
Var interleave_phases(const Var& z) {
  const int64_t N = z.dim(0), C = z.dim(1) / 4, H = z.dim(2) - 1, W = z.dim(3) - 1;
  Tensor y = Tensor::empty(Shape{N, C, 2 * H, 2 * W});
  const Scalar* pz = z.value().data();
  Scalar* py = y.data();
  for_each_phase_element(N, C, H, W, [=](int64_t zi, int64_t yi) { py[yi] = pz[zi]; });
  return Var::make_op(std::move(y), "interleave_phases", {z},
                      [](const Var& g) { return std::vector<Var>{deinterleave_phases(g)}; });
}

// The adjoint: y (N, C, 2H, 2W) -> z (N, 4C, H+1, W+1), zero where interleave reads nothing.
Var deinterleave_phases(const Var& y) {
  const int64_t N = y.dim(0), C = y.dim(1), H = y.dim(2) / 2, W = y.dim(3) / 2;
  Tensor z = Tensor::zeros(Shape{N, 4 * C, H + 1, W + 1});
  const Scalar* py = y.value().data();
  Scalar* pz = z.data();
  for_each_phase_element(N, C, H, W, [=](int64_t zi, int64_t yi) { pz[zi] = py[yi]; });
  return Var::make_op(std::move(z), "deinterleave_phases", {y},
                      [](const Var& g) { return std::vector<Var>{interleave_phases(g)}; });
}

void check_3x3(const Var& x, const Var& w, const Var& b, const char* op) {
  SNGAN_CHECK(x.shape().ndim() == 4, op, ": expected input (N, C, H, W), got ", x.shape().str());
  SNGAN_CHECK(w.shape().ndim() == 4 && w.dim(1) == x.dim(1) && w.dim(2) == 3 && w.dim(3) == 3, op,
              ": expected a 3x3 weight (Cout, ", x.dim(1), ", 3, 3), got ", w.shape().str());
  if (b.defined())
    SNGAN_CHECK(b.shape() == Shape{w.dim(0)}, op, ": expected bias of shape (", w.dim(0), "), got ",
                b.shape().str());
}

}  // namespace

Var upsample2_conv3x3(const Var& x, const Var& weight, const Var& bias) {
  check_3x3(x, weight, bias, "upsample2_conv3x3");
  Var b4;
  if (bias.defined()) {
    const Var row = reshape(bias, Shape{1, weight.dim(0)});
    b4 = reshape(concat_channels({row, row, row, row}), Shape{4 * weight.dim(0)});
  }
  // z (N, 4 Cout, H+1, W+1): the four phase convs, each over the window it needs.
  const Var z = conv2d(x, remap_kernel(weight, upsample_fold()), b4, Conv2dOptions{1, 1});
  return interleave_phases(z);
}

Var conv3x3_avgpool2(const Var& x, const Var& weight, const Var& bias) {
  check_3x3(x, weight, bias, "conv3x3_avgpool2");
  SNGAN_CHECK(x.dim(2) % 2 == 0 && x.dim(3) % 2 == 0,
              "conv3x3_avgpool2: expected even H and W, got ", x.shape().str());
  return conv2d(x, remap_kernel(weight, avgpool_fold()), bias, Conv2dOptions{2, 1});
}

}  // namespace sngan
