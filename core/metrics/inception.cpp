// The FID Inception-v3 network and its FeatureExtractor (see inception.h). The layer sequence
// is torchvision's Inception3._forward up to the average pool, as pytorch-fid's InceptionV3
// splits it into blocks 0-3, followed by the fc layer.
#include "core/metrics/inception.h"

#include <algorithm>
#include <cstring>

#include "core/io/safetensors.h"
#include "core/metrics/inception_blocks.h"

namespace sngan {

namespace {

using inception::BasicConv;
using inception::BlockA;
using inception::BlockB;
using inception::BlockC;
using inception::BlockD;
using inception::BlockE;
using inception::WeightSource;
using G = BasicConv::Geometry;

class InceptionV3 final : public FeatureExtractor {
 public:
  InceptionV3(WeightSource& src, const InceptionOptions& options)
      : options_(options),
        conv1a_(src, "Conv2d_1a_3x3", G{3, 32, 3, 3, 2}, options.fold_batch_norm),
        conv2a_(src, "Conv2d_2a_3x3", G{32, 32, 3, 3}, options.fold_batch_norm),
        conv2b_(src, "Conv2d_2b_3x3", G{32, 64, 3, 3, 1, 1, 1}, options.fold_batch_norm),
        conv3b_(src, "Conv2d_3b_1x1", G{64, 80, 1, 1}, options.fold_batch_norm),
        conv4a_(src, "Conv2d_4a_3x3", G{80, 192, 3, 3}, options.fold_batch_norm),
        mixed5b_(src, "Mixed_5b", 192, 32, options.fold_batch_norm),
        mixed5c_(src, "Mixed_5c", 256, 64, options.fold_batch_norm),
        mixed5d_(src, "Mixed_5d", 288, 64, options.fold_batch_norm),
        mixed6a_(src, "Mixed_6a", 288, options.fold_batch_norm),
        mixed6b_(src, "Mixed_6b", 768, 128, options.fold_batch_norm),
        mixed6c_(src, "Mixed_6c", 768, 160, options.fold_batch_norm),
        mixed6d_(src, "Mixed_6d", 768, 160, options.fold_batch_norm),
        mixed6e_(src, "Mixed_6e", 768, 192, options.fold_batch_norm),
        mixed7a_(src, "Mixed_7a", 768, options.fold_batch_norm),
        mixed7b_(src, "Mixed_7b", 1280, BlockE::Pool::kAverage, options.fold_batch_norm),
        mixed7c_(src, "Mixed_7c", 2048, BlockE::Pool::kMax, options.fold_batch_norm),
        fc_weight_(src.take("fc.weight", Shape{kInceptionClasses, kInceptionFeatureDim})),
        fc_bias_(src.take("fc.bias", Shape{kInceptionClasses})) {
    SNGAN_CHECK(options.batch >= 1, "inception: expected batch >= 1, got ", options.batch);
  }

  std::string name() const override { return "inception_v3_fid"; }
  int64_t feature_dim() const override { return kInceptionFeatureDim; }
  int64_t num_classes() const override { return kInceptionClasses; }
  void embed(const Tensor& images, Tensor* features, Tensor* logits) override;

 private:
  // x (n, 3, 299, 299) -> pool3 (n, 2048).
  Var pool3(Var x) const {
    x = conv2b_(conv2a_(conv1a_(x)));           // (64, 147, 147)
    x = max_pool2d(x, Pool2dOptions{3, 2, 0});  // (64, 73, 73)
    x = conv4a_(conv3b_(x));                    // (192, 71, 71)
    x = max_pool2d(x, Pool2dOptions{3, 2, 0});  // (192, 35, 35)
    x = mixed5d_(mixed5c_(mixed5b_(x)));        // (288, 35, 35)
    x = mixed6a_(x);                            // (768, 17, 17)
    x = mixed6e_(mixed6d_(mixed6c_(mixed6b_(x))));
    x = mixed7a_(x);                            // (1280, 8, 8)
    x = mixed7c_(mixed7b_(x));                  // (2048, 8, 8)
    return global_avg_pool2d(x);                // (2048)
  }

  // images[n0, n0 + n) as the network's input (n, 3, 299, 299).
  Var network_input(const Tensor& images, int64_t n0, int64_t n) const;

  InceptionOptions options_;
  BasicConv conv1a_, conv2a_, conv2b_, conv3b_, conv4a_;
  BlockA mixed5b_, mixed5c_, mixed5d_;
  BlockB mixed6a_;
  BlockC mixed6b_, mixed6c_, mixed6d_, mixed6e_;
  BlockD mixed7a_;
  BlockE mixed7b_, mixed7c_;
  Var fc_weight_, fc_bias_;  // (1008, 2048), (1008)
};

Var InceptionV3::network_input(const Tensor& images, int64_t n0, int64_t n) const {
  const int64_t C = images.dim(1), H = images.dim(2), W = images.dim(3), per = C * H * W;
  Tensor chunk = Tensor::empty(Shape{n, C, H, W});
  std::memcpy(chunk.data(), images.data() + n0 * per, static_cast<size_t>(n * per) * sizeof(Scalar));
  Var x(chunk);
  if (H != kInceptionInputSize || W != kInceptionInputSize)
    x = resize_bilinear(x, kInceptionInputSize, kInceptionInputSize);
  if (C == 1) x = concat_channels({x, x, x});  // resizing commutes with the repeat
  return x;
}

// Ensures *t is a (rows, cols) tensor, reusing it when it already has that shape.
void ensure_shape(Tensor* t, int64_t rows, int64_t cols) {
  if (t != nullptr && (!t->defined() || t->shape() != Shape{rows, cols}))
    *t = Tensor::empty(Shape{rows, cols});
}

void InceptionV3::embed(const Tensor& images, Tensor* features, Tensor* logits) {
  SNGAN_CHECK(images.defined() && images.ndim() == 4, "inception: expected images (N, C, H, W), got ",
              images.defined() ? images.shape().str() : std::string("an undefined tensor"));
  const int64_t N = images.dim(0), C = images.dim(1);
  SNGAN_CHECK(N >= 1, "inception: expected at least one image, got ", images.shape().str());
  SNGAN_CHECK(C == 1 || C == 3, "inception: expected 1 or 3 channels, got ", images.shape().str());
  SNGAN_CHECK(images.dim(2) >= 1 && images.dim(3) >= 1, "inception: expected non-empty images, got ",
              images.shape().str());
  ensure_shape(features, N, kInceptionFeatureDim);
  ensure_shape(logits, N, kInceptionClasses);
  if (features == nullptr && logits == nullptr) return;
  NoGradGuard no_grad;
  for (int64_t n0 = 0; n0 < N; n0 += options_.batch) {
    const int64_t n = std::min(options_.batch, N - n0);
    const Var f = pool3(network_input(images, n0, n));  // (n, 2048)
    if (features != nullptr)
      std::memcpy(features->data() + n0 * kInceptionFeatureDim, f.value().data(),
                  static_cast<size_t>(n * kInceptionFeatureDim) * sizeof(Scalar));
    if (logits != nullptr) {
      const Var l = linear(f, fc_weight_, fc_bias_);  // (n, 1008)
      std::memcpy(logits->data() + n0 * kInceptionClasses, l.value().data(),
                  static_cast<size_t>(n * kInceptionClasses) * sizeof(Scalar));
    }
  }
}

}  // namespace

std::unique_ptr<FeatureExtractor> make_inception_v3(const std::map<std::string, Tensor>& tensors,
                                                    const std::string& source,
                                                    const InceptionOptions& options) {
  WeightSource src(tensors, source);
  auto net = std::make_unique<InceptionV3>(src, options);
  src.check_all_taken();
  return net;
}

std::unique_ptr<FeatureExtractor> load_inception_v3(const std::string& safetensors_path,
                                                    const InceptionOptions& options) {
  TensorFile file;
  try {
    file = read_safetensors(safetensors_path);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) +
                " (scripts/download_inception.sh downloads and converts the FID Inception weights)");
  }
  return make_inception_v3(file.tensors, "Inception weights '" + safetensors_path + "'", options);
}

std::unique_ptr<FeatureExtractor> load_inception_v3(const std::string& safetensors_path) {
  return load_inception_v3(safetensors_path, InceptionOptions{});
}

std::vector<std::pair<std::string, Shape>> inception_v3_tensor_shapes() {
  WeightSource recorder = WeightSource::recorder();
  InceptionV3 net(recorder, InceptionOptions{});
  return recorder.taken();
}

}  // namespace sngan
