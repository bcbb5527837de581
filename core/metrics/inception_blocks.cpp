// Inception-v3 blocks with pytorch-fid's FID patches (see inception_blocks.h). Layer names,
// sizes and the order tensors are taken in follow torchvision's Inception3 module tree, which
// is the key layout of pytorch-fid's weight file.
#include "core/metrics/inception_blocks.h"

#include <cmath>

namespace sngan::inception {

// ---- WeightSource ----

WeightSource::WeightSource(const std::map<std::string, Tensor>& tensors, std::string source)
    : tensors_(&tensors), source_(std::move(source)) {}

WeightSource WeightSource::recorder() { return WeightSource(); }

Tensor WeightSource::take(const std::string& name, const Shape& shape) {
  taken_.emplace_back(name, shape);
  if (tensors_ == nullptr) return Tensor::zeros(shape);
  const auto it = tensors_->find(name);
  SNGAN_CHECK(it != tensors_->end(), source_, ": expected the FID Inception-v3 tensor '", name,
              "' of shape ", shape.str(), ", but the file has no tensor of that name");
  SNGAN_CHECK(it->second.shape() == shape, source_, ": expected tensor '", name, "' of shape ",
              shape.str(), ", got ", it->second.shape().str());
  return it->second;
}

void WeightSource::check_all_taken() const {
  if (tensors_ == nullptr) return;
  std::map<std::string, bool> used;
  for (const auto& t : taken_) used[t.first] = true;
  for (const auto& entry : *tensors_)
    SNGAN_CHECK(used.count(entry.first) > 0, source_, ": unexpected tensor '", entry.first,
                "': expected exactly the ", taken_.size(),
                " tensors of pytorch-fid's FID Inception-v3 (is this another network's file?)");
}

// ---- BasicConv ----

namespace {
constexpr double kBatchNormEps = 0.001;  // torchvision's BasicConv2d
}

BasicConv::BasicConv(WeightSource& src, const std::string& name, const Geometry& g,
                     bool fold_batch_norm) {
  options_.stride = g.stride;
  options_.pad_h = g.pad_h;
  options_.pad_w = g.pad_w;
  const Shape wshape{g.cout, g.cin, g.kh, g.kw}, cshape{g.cout};
  const Tensor w = src.take(name + ".conv.weight", wshape);
  const Tensor gamma = src.take(name + ".bn.weight", cshape);
  const Tensor beta = src.take(name + ".bn.bias", cshape);
  const Tensor mean = src.take(name + ".bn.running_mean", cshape);
  const Tensor var = src.take(name + ".bn.running_var", cshape);
  if (!fold_batch_norm) {
    weight_ = Var(w), gamma_ = Var(gamma), beta_ = Var(beta);
    mean_ = mean, var_ = var;
    return;
  }
  Tensor wf = Tensor::empty(wshape), bf = Tensor::empty(cshape);
  const int64_t per_out = g.cin * g.kh * g.kw;
  for (int64_t o = 0; o < g.cout; ++o) {
    const double s = double(gamma[o]) / std::sqrt(double(var[o]) + kBatchNormEps);
    for (int64_t i = o * per_out; i < (o + 1) * per_out; ++i)
      wf[i] = static_cast<Scalar>(double(w[i]) * s);
    bf[o] = static_cast<Scalar>(double(beta[o]) - double(mean[o]) * s);
  }
  weight_ = Var(wf), bias_ = Var(bf);
}

Var BasicConv::operator()(const Var& x) const {
  if (bias_.defined()) return conv2d_leaky_relu(x, weight_, bias_, options_, Scalar(0));
  BatchNormState state;
  state.running_mean = &mean_;
  state.running_var = &var_;
  state.eps = static_cast<Scalar>(kBatchNormEps);
  return relu(batch_norm(conv2d(x, weight_, Var(), options_), gamma_, beta_, false, state));
}

// ---- blocks ----

namespace {
using G = BasicConv::Geometry;

// 3x3 pooling windows: stride 1 with "same" padding, and stride 2 without padding.
Var tf_avg_pool3x3(const Var& x) { return avg_pool2d(x, Pool2dOptions{3, 1, 1, false}); }
Var max_pool3x3(const Var& x) { return max_pool2d(x, Pool2dOptions{3, 1, 1}); }
Var max_pool3x3_s2(const Var& x) { return max_pool2d(x, Pool2dOptions{3, 2, 0}); }
}  // namespace

BlockA::BlockA(WeightSource& src, const std::string& n, int64_t cin, int64_t pool_features,
               bool fold)
    : b1x1_(src, n + ".branch1x1", G{cin, 64, 1, 1}, fold),
      b5x5_1_(src, n + ".branch5x5_1", G{cin, 48, 1, 1}, fold),
      b5x5_2_(src, n + ".branch5x5_2", G{48, 64, 5, 5, 1, 2, 2}, fold),
      b3dbl_1_(src, n + ".branch3x3dbl_1", G{cin, 64, 1, 1}, fold),
      b3dbl_2_(src, n + ".branch3x3dbl_2", G{64, 96, 3, 3, 1, 1, 1}, fold),
      b3dbl_3_(src, n + ".branch3x3dbl_3", G{96, 96, 3, 3, 1, 1, 1}, fold),
      pool_(src, n + ".branch_pool", G{cin, pool_features, 1, 1}, fold) {}

Var BlockA::operator()(const Var& x) const {
  return concat_channels({b1x1_(x), b5x5_2_(b5x5_1_(x)), b3dbl_3_(b3dbl_2_(b3dbl_1_(x))),
                          pool_(tf_avg_pool3x3(x))});
}

BlockB::BlockB(WeightSource& src, const std::string& n, int64_t cin, bool fold)
    : b3x3_(src, n + ".branch3x3", G{cin, 384, 3, 3, 2}, fold),
      b3dbl_1_(src, n + ".branch3x3dbl_1", G{cin, 64, 1, 1}, fold),
      b3dbl_2_(src, n + ".branch3x3dbl_2", G{64, 96, 3, 3, 1, 1, 1}, fold),
      b3dbl_3_(src, n + ".branch3x3dbl_3", G{96, 96, 3, 3, 2}, fold) {}

Var BlockB::operator()(const Var& x) const {
  return concat_channels({b3x3_(x), b3dbl_3_(b3dbl_2_(b3dbl_1_(x))), max_pool3x3_s2(x)});
}

BlockC::BlockC(WeightSource& src, const std::string& n, int64_t cin, int64_t c7, bool fold)
    : b1x1_(src, n + ".branch1x1", G{cin, 192, 1, 1}, fold),
      b7_1_(src, n + ".branch7x7_1", G{cin, c7, 1, 1}, fold),
      b7_2_(src, n + ".branch7x7_2", G{c7, c7, 1, 7, 1, 0, 3}, fold),
      b7_3_(src, n + ".branch7x7_3", G{c7, 192, 7, 1, 1, 3, 0}, fold),
      b7dbl_{{src, n + ".branch7x7dbl_1", G{cin, c7, 1, 1}, fold},
             {src, n + ".branch7x7dbl_2", G{c7, c7, 7, 1, 1, 3, 0}, fold},
             {src, n + ".branch7x7dbl_3", G{c7, c7, 1, 7, 1, 0, 3}, fold},
             {src, n + ".branch7x7dbl_4", G{c7, c7, 7, 1, 1, 3, 0}, fold},
             {src, n + ".branch7x7dbl_5", G{c7, 192, 1, 7, 1, 0, 3}, fold}},
      pool_(src, n + ".branch_pool", G{cin, 192, 1, 1}, fold) {}

Var BlockC::operator()(const Var& x) const {
  Var d = x;
  for (const BasicConv& conv : b7dbl_) d = conv(d);
  return concat_channels({b1x1_(x), b7_3_(b7_2_(b7_1_(x))), d, pool_(tf_avg_pool3x3(x))});
}

BlockD::BlockD(WeightSource& src, const std::string& n, int64_t cin, bool fold)
    : b3_1_(src, n + ".branch3x3_1", G{cin, 192, 1, 1}, fold),
      b3_2_(src, n + ".branch3x3_2", G{192, 320, 3, 3, 2}, fold),
      b7_1_(src, n + ".branch7x7x3_1", G{cin, 192, 1, 1}, fold),
      b7_2_(src, n + ".branch7x7x3_2", G{192, 192, 1, 7, 1, 0, 3}, fold),
      b7_3_(src, n + ".branch7x7x3_3", G{192, 192, 7, 1, 1, 3, 0}, fold),
      b7_4_(src, n + ".branch7x7x3_4", G{192, 192, 3, 3, 2}, fold) {}

Var BlockD::operator()(const Var& x) const {
  return concat_channels({b3_2_(b3_1_(x)), b7_4_(b7_3_(b7_2_(b7_1_(x)))), max_pool3x3_s2(x)});
}

BlockE::BlockE(WeightSource& src, const std::string& n, int64_t cin, Pool pool, bool fold)
    : b1x1_(src, n + ".branch1x1", G{cin, 320, 1, 1}, fold),
      b3_1_(src, n + ".branch3x3_1", G{cin, 384, 1, 1}, fold),
      b3_2a_(src, n + ".branch3x3_2a", G{384, 384, 1, 3, 1, 0, 1}, fold),
      b3_2b_(src, n + ".branch3x3_2b", G{384, 384, 3, 1, 1, 1, 0}, fold),
      b3dbl_1_(src, n + ".branch3x3dbl_1", G{cin, 448, 1, 1}, fold),
      b3dbl_2_(src, n + ".branch3x3dbl_2", G{448, 384, 3, 3, 1, 1, 1}, fold),
      b3dbl_3a_(src, n + ".branch3x3dbl_3a", G{384, 384, 1, 3, 1, 0, 1}, fold),
      b3dbl_3b_(src, n + ".branch3x3dbl_3b", G{384, 384, 3, 1, 1, 1, 0}, fold),
      pool_conv_(src, n + ".branch_pool", G{cin, 192, 1, 1}, fold),
      pool_(pool) {}

Var BlockE::operator()(const Var& x) const {
  const Var b3 = b3_1_(x);
  const Var bd = b3dbl_2_(b3dbl_1_(x));
  const Var pooled = pool_ == Pool::kMax ? max_pool3x3(x) : tf_avg_pool3x3(x);
  return concat_channels({b1x1_(x), b3_2a_(b3), b3_2b_(b3), b3dbl_3a_(bd), b3dbl_3b_(bd),
                          pool_conv_(pooled)});
}

}  // namespace sngan::inception
