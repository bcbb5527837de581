// The classifier feature network: its loss gradient, a file round trip and the image
// adaptation of embed(). (Its accuracy on Fashion-MNIST is checked end to end in tests/cli.)
#include <gtest/gtest.h>

#include <filesystem>

#include "core/metrics/classifier.h"
#include "core/metrics/open_feature_extractor.h"
#include "core/tensor/ops.h"

namespace sngan {
namespace {

ClassifierConfig tiny_config() {
  ClassifierConfig c;
  c.image_size = 8;
  c.channels = {4, 6};
  c.feature_dim = 5;
  c.num_classes = 3;
  return c;
}

Tensor random_images(int64_t n, int64_t c, int64_t s, uint64_t seed) {
  Rng rng(seed);
  Tensor x = Tensor::empty(Shape{n, c, s, s});
  rng.fill_uniform(x, -1, 1);
  return x;
}

TEST(Classifier, CrossEntropyGradientMatchesFiniteDifferences) {
  Rng rng(1);
  Tensor z = Tensor::empty(Shape{4, 3});
  rng.fill_normal(z);
  const std::vector<int> labels{0, 2, 1, 2};
  Var logits(z.clone(), true);
  backward(cross_entropy(logits, labels));
  const Tensor g = logits.grad();
  for (int64_t i = 0; i < z.numel(); ++i) {
    const Scalar h = 1e-2f;
    Tensor zp = z.clone(), zm = z.clone();
    zp[i] += h;
    zm[i] -= h;
    const double num = (cross_entropy(Var(zp), labels).item() - cross_entropy(Var(zm), labels).item()) / (2 * h);
    EXPECT_NEAR(g[i], num, 2e-3) << i;
  }
  // The loss itself: -log softmax of the label, averaged.
  double want = 0;
  for (int i = 0; i < 4; ++i) {
    double se = 0;
    for (int c = 0; c < 3; ++c) se += std::exp(double(z[i * 3 + c]));
    want += std::log(se) - z[i * 3 + labels[static_cast<size_t>(i)]];
  }
  EXPECT_NEAR(cross_entropy(Var(z), labels).item(), want / 4, 1e-5);
  EXPECT_THROW(cross_entropy(Var(z), {0, 1, 3, 0}), Error);
}

TEST(Classifier, FileRoundTripGivesTheSameEmbeddingAndNamesTheFile) {
  Rng rng(2);
  auto net = std::make_shared<ClassifierNet>(tiny_config(), rng);
  {  // move the BN running statistics away from their initial values
    net->train(true);
    net->forward(Var(random_images(16, 1, 8, 3)));
  }
  const std::string path = (std::filesystem::temp_directory_path() / "sngan_classifier_test.safetensors").string();
  save_classifier(path, *net, {{"test_accuracy", "0.5"}});
  Classifier direct(net);
  OpenedFeatureExtractor opened = open_feature_extractor(path);
  EXPECT_EQ(opened.net->name(), "classifier");
  EXPECT_EQ(opened.net->feature_dim(), 5);
  EXPECT_EQ(opened.net->num_classes(), 3);
  EXPECT_EQ(opened.id.rfind("classifier:", 0), 0u);
  const Tensor x = random_images(5, 1, 8, 4);
  Tensor f1, z1, f2, z2;
  direct.embed(x, &f1, &z1);
  opened.net->embed(x, &f2, &z2);
  ASSERT_EQ(f1.shape(), (Shape{5, 5}));
  ASSERT_EQ(z1.shape(), (Shape{5, 3}));
  for (int64_t i = 0; i < f1.numel(); ++i) EXPECT_EQ(f1[i], f2[i]);
  for (int64_t i = 0; i < z1.numel(); ++i) EXPECT_EQ(z1[i], z2[i]);
  std::filesystem::remove(path);
  try {
    open_feature_extractor(path);
    FAIL() << "a missing file must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Classifier, RgbImagesAreEmbeddedAsTheirLuma) {
  Rng rng(5);
  Classifier c(std::make_shared<ClassifierNet>(tiny_config(), rng));
  const Tensor rgb = random_images(3, 3, 8, 6);
  Tensor grey = Tensor::empty(Shape{3, 1, 8, 8});
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t p = 0; p < 64; ++p)
      grey[n * 64 + p] = 0.299f * rgb[n * 192 + p] + 0.587f * rgb[n * 192 + 64 + p] + 0.114f * rgb[n * 192 + 128 + p];
  Tensor a, b;
  c.embed(rgb, &a, nullptr);
  c.embed(grey, &b, nullptr);
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
  EXPECT_THROW(c.embed(random_images(2, 1, 10, 7), &a, nullptr), Error);
}

}  // namespace
}  // namespace sngan
