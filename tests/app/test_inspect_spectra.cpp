// The spectra of `sngan inspect --spectra` (Miyato et al. 2018, Figure 3) against independent
// computations: JacobiSVD of W / (u^T W v) done here, the squared Frobenius norm as the sum of
// squared singular values, unit rows under weight norm, and a largest value of at least (and
// near) 1 for spectral norm.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cmath>

#include "app/inspect_command.h"
#include "core/gan/trainer.h"

namespace sngan {
namespace {

std::map<std::string, Tensor> trained_state(DNormalization n, int iterations) {
  GeneratorConfig g;
  DiscriminatorConfig d;
  TrainConfig t;
  g.architecture = d.architecture = Architecture::kStandardCnn;
  g.image_size = d.image_size = 8;
  g.channels = d.channels = 1;
  g.base_channels = 16;
  g.z_dim = 8;
  d.conv_channels = {4, 4, 8, 8, 8, 8, 8};
  d.normalization = n;
  t.batch_size = t.g_batch_size = 4;
  t.n_dis = 2;
  t.seed = 5;
  t.iterations = iterations;
  Trainer tr(t, g, d);
  Rng rng(2);
  auto source = [&rng] {
    Tensor x = Tensor::empty(Shape{4, 1, 8, 8});
    rng.fill_uniform(x, -1, 1);
    return x;
  };
  for (int i = 0; i < iterations; ++i) tr.step(source);
  std::map<std::string, Tensor> out;
  for (auto& [name, tensor] : tr.state_tensors()) out.emplace(name, tensor);
  return out;
}

Eigen::MatrixXd as_matrix(const Tensor& w) {
  const int64_t rows = w.shape()[0], cols = w.numel() / rows;
  Eigen::MatrixXd m(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) m(r, c) = w[r * cols + c];
  return m;
}

TEST(InspectSpectra, SpectralNormLayersMatchJacobiSvdOfTheNormalizedWeight) {
  const auto state = trained_state(DNormalization::kSpectral, 40);
  const auto spectra = discriminator_spectra(state, DNormalization::kSpectral, "test");
  ASSERT_EQ(spectra.size(), 8u);  // 7 convs and the dense layer (Sec. B.1, Table 3)
  for (const LayerSpectrum& s : spectra) {
    const std::string base = "discriminator." + s.layer;
    Eigen::MatrixXd w = as_matrix(state.at(base + ".weight"));
    const Tensor& ut = state.at(base + ".u");
    const Tensor& vt = state.at(base + ".v");
    double sigma = 0;
    for (int64_t r = 0; r < w.rows(); ++r)
      for (int64_t c = 0; c < w.cols(); ++c) sigma += ut[r] * w(r, c) * vt[c];
    w /= sigma;
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(w);
    const Eigen::VectorXd expected = svd.singularValues();
    ASSERT_EQ(s.singular_values.size(), static_cast<size_t>(expected.size())) << s.layer;
    ASSERT_EQ(s.rows, w.rows());
    ASSERT_EQ(s.cols, w.cols());
    double sum_sq = 0;
    for (int64_t i = 0; i < expected.size(); ++i) {
      EXPECT_NEAR(s.singular_values[i], expected[i], 1e-9 * (1 + expected[i])) << s.layer << " " << i;
      if (i > 0) {
        EXPECT_LE(s.singular_values[i], s.singular_values[i - 1]);
      }
      sum_sq += s.singular_values[i] * s.singular_values[i];
    }
    EXPECT_NEAR(sum_sq, w.squaredNorm(), 1e-9 * w.squaredNorm()) << s.layer;
    // sigma = u^T W v with unit u, v never exceeds the largest singular value, so W / sigma has
    // a largest singular value of at least 1; after 80 D steps of power iteration, close to 1.
    EXPECT_GE(s.singular_values[0], 1.0 - 1e-5) << s.layer;  // u, v are stored in float
    EXPECT_LT(s.singular_values[0], 1.15) << s.layer;
  }
}

TEST(InspectSpectra, WeightNormRowsAreUnitSoSquaredValuesSumToTheRowCount) {
  const auto state = trained_state(DNormalization::kWeightNorm, 3);
  const auto spectra = discriminator_spectra(state, DNormalization::kWeightNorm, "test");
  ASSERT_EQ(spectra.size(), 8u);
  for (const LayerSpectrum& s : spectra) {
    double sum_sq = 0;
    for (double v : s.singular_values) sum_sq += v * v;
    EXPECT_NEAR(sum_sq, static_cast<double>(s.rows), 1e-6 * s.rows) << s.layer;
  }
}

TEST(InspectSpectra, UnnormalizedWeightsKeepTheirFrobeniusNorm) {
  const auto state = trained_state(DNormalization::kWeightClip, 2);
  const auto spectra = discriminator_spectra(state, DNormalization::kWeightClip, "test");
  for (const LayerSpectrum& s : spectra) {
    const Eigen::MatrixXd w = as_matrix(state.at("discriminator." + s.layer + ".weight"));
    double sum_sq = 0;
    for (double v : s.singular_values) sum_sq += v * v;
    EXPECT_NEAR(sum_sq, w.squaredNorm(), 1e-9 * w.squaredNorm()) << s.layer;
    EXPECT_LE(w.cwiseAbs().maxCoeff(), 0.01 + 1e-7) << s.layer;  // clipped, not rescaled
  }
}

TEST(InspectSpectra, MissingPowerIterationVectorsAreNamed) {
  auto state = trained_state(DNormalization::kSpectral, 1);
  std::string removed;
  for (auto it = state.begin(); it != state.end(); ++it)
    if (it->first.rfind("discriminator.", 0) == 0 && it->first.size() > 2 &&
        it->first.compare(it->first.size() - 2, 2, ".u") == 0) {
      removed = it->first;
      state.erase(it);
      break;
    }
  ASSERT_FALSE(removed.empty());
  try {
    discriminator_spectra(state, DNormalization::kSpectral, "ckpt.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".u and .v"), std::string::npos) << e.what();
  }
  EXPECT_THROW(discriminator_spectra({}, DNormalization::kNone, "empty"), Error);
}

}  // namespace
}  // namespace sngan
