// The FID Inception-v3 against PyTorch: tests/metrics/make_inception_reference.py ran
// pytorch-fid's network (torchvision 0.14's Inception3 with the FID blocks) in float64 on
// weights and images from a deterministic formula and saved the pool3 features and logits;
// here the same formula builds the same network in C++ (inception_test_weights.h) and its
// outputs must agree to 1e-4 relative. Plus: the tensor list against torchvision's state_dict,
// the unfolded batch norm, batching, the safetensors loader and its errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/metrics/inception.h"
#include "tests/metrics/inception_test_weights.h"

namespace sngan {
namespace {

const std::string kDir = std::string(SNGAN_SOURCE_DIR) + "/tests/metrics/";

nlohmann::json reference_meta() {
  std::ifstream in(kDir + "inception_reference.json");
  EXPECT_TRUE(in.good()) << "cannot open " << kDir << "inception_reference.json";
  return nlohmann::json::parse(in);
}

std::vector<float> reference_values(int64_t count) {
  std::ifstream in(kDir + "inception_reference.bin", std::ios::binary);
  std::vector<float> v(static_cast<size_t>(count));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(float)));
  EXPECT_EQ(in.gcount(), static_cast<std::streamsize>(count * sizeof(float)))
      << "inception_reference.bin is shorter than the JSON says";
  return v;
}

// The network built from the formula weights, shared by the tests (building takes ~1 s).
const std::map<std::string, Tensor>& formula_weights() {
  static const std::map<std::string, Tensor> w = inception_test::formula_inception_weights();
  return w;
}

// Relative error of got vs want, elementwise over rows of `width`: |got - want| divided by
// max(|want|, 1% of the row's largest |want|) (logits near zero are judged on the row's scale).
double max_relative_error(const float* want, const Scalar* got, int64_t rows, int64_t width) {
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double scale = 0;
    for (int64_t j = 0; j < width; ++j) scale = std::max(scale, std::abs(double(want[r * width + j])));
    for (int64_t j = 0; j < width; ++j) {
      const double w = want[r * width + j], g = got[r * width + j];
      const double err = std::abs(g - w) / std::max(std::abs(w), 0.01 * scale);
      worst = std::max(worst, std::isnan(err) ? 1e30 : err);
    }
  }
  return worst;
}

// max |got - want| / max |want| per row: the error on the scale of the whole vector.
double max_scaled_error(const float* want, const Scalar* got, int64_t rows, int64_t width) {
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double scale = 0, err = 0;
    for (int64_t j = 0; j < width; ++j) {
      scale = std::max(scale, std::abs(double(want[r * width + j])));
      err = std::max(err, std::abs(double(got[r * width + j]) - want[r * width + j]));
    }
    worst = std::max(worst, err / scale);
  }
  return worst;
}

// PyTorch's own float32 run of the reference cases is off its float64 run by up to 1.7e-5
// (features) and 4.4e-5 (logits) in max_relative_error, and 1.5e-6 in max_scaled_error
// (make_inception_reference.py records the latter): float32 rounding over ~95 layers.
constexpr double kTolerance = 1e-4;
constexpr double kScaledTolerance = 1e-5;

// Runs every reference case (or only `only`) through `net` and checks both outputs.
void expect_matches_reference(FeatureExtractor& net, const std::string& label,
                              const std::string& only = "") {
  const nlohmann::json meta = reference_meta();
  const std::vector<float> ref = reference_values(meta.at("values").get<int64_t>());
  double worst_f = 0, worst_l = 0, scaled_f = 0, scaled_l = 0;
  for (const auto& c : meta.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    if (!only.empty() && name != only) continue;
    const std::vector<int64_t> s = c.at("shape").get<std::vector<int64_t>>();
    const Tensor images = inception_test::formula_images(name, Shape(s));
    Tensor features, logits;
    net.embed(images, &features, &logits);
    ASSERT_EQ(features.shape(), (Shape{s[0], 2048})) << name;
    ASSERT_EQ(logits.shape(), (Shape{s[0], 1008})) << name;
    const double ef = max_relative_error(ref.data() + c.at("features_offset").get<int64_t>(),
                                         features.data(), s[0], 2048);
    const double el = max_relative_error(ref.data() + c.at("logits_offset").get<int64_t>(),
                                         logits.data(), s[0], 1008);
    const double sf = max_scaled_error(ref.data() + c.at("features_offset").get<int64_t>(),
                                       features.data(), s[0], 2048);
    const double sl = max_scaled_error(ref.data() + c.at("logits_offset").get<int64_t>(),
                                       logits.data(), s[0], 1008);
    EXPECT_LE(ef, kTolerance) << label << " " << name << " features";
    EXPECT_LE(el, kTolerance) << label << " " << name << " logits";
    EXPECT_LE(sf, kScaledTolerance) << label << " " << name << " features";
    EXPECT_LE(sl, kScaledTolerance) << label << " " << name << " logits";
    worst_f = std::max(worst_f, ef), worst_l = std::max(worst_l, el);
    scaled_f = std::max(scaled_f, sf), scaled_l = std::max(scaled_l, sl);
  }
  std::printf("[ %s ] vs PyTorch float64: max relative error features %.3g, logits %.3g; "
              "max error / max |value| features %.3g, logits %.3g\n",
              label.c_str(), worst_f, worst_l, scaled_f, scaled_l);
}

TEST(InceptionV3, TensorListMatchesTorchvisionStateDict) {
  const nlohmann::json meta = reference_meta();
  EXPECT_EQ(meta.at("formula_version").get<int>(), inception_test::kInceptionFormulaVersion);
  const auto ours = inception_v3_tensor_shapes();
  const auto& theirs = meta.at("tensors");
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].first, theirs[i].at(0).get<std::string>()) << "entry " << i;
    EXPECT_EQ(ours[i].second, Shape(theirs[i].at(1).get<std::vector<int64_t>>())) << ours[i].first;
  }
}

TEST(InceptionV3, MatchesPyTorch) {
  auto net = make_inception_v3(formula_weights(), "formula weights");
  EXPECT_EQ(net->name(), "inception_v3_fid");
  EXPECT_EQ(net->feature_dim(), 2048);
  EXPECT_EQ(net->num_classes(), 1008);
  expect_matches_reference(*net, "folded batch norm");
}

// Batch norm as its own op instead of folded into the conv: the same outputs.
TEST(InceptionV3, UnfoldedBatchNormMatchesPyTorch) {
  InceptionOptions o;
  o.fold_batch_norm = false;
  auto net = make_inception_v3(formula_weights(), "formula weights", o);
  expect_matches_reference(*net, "unfolded batch norm", "grey28");
}

// One image per forward pass (the two images of a case in two chunks) gives the same outputs,
// and embed() fills only what is asked for, reusing a tensor of the right shape.
TEST(InceptionV3, BatchOfOneAndPartialOutputs) {
  InceptionOptions o;
  o.batch = 1;
  auto net = make_inception_v3(formula_weights(), "formula weights", o);
  expect_matches_reference(*net, "batch 1", "rgb48x40");
  const Tensor images = inception_test::formula_images("grey28", Shape{1, 1, 28, 28});
  Tensor features = Tensor::full(Shape{1, 2048}, 7);
  const Scalar* storage = features.data();
  net->embed(images, &features, nullptr);
  EXPECT_EQ(features.data(), storage);
  EXPECT_NE(features[0], 7);
}

TEST(InceptionV3, RejectsBadImages) {
  auto net = make_inception_v3(formula_weights(), "formula weights");
  Tensor f;
  EXPECT_THROW(net->embed(Tensor::zeros(Shape{2, 2, 8, 8}), &f, nullptr), Error);  // 2 channels
  EXPECT_THROW(net->embed(Tensor::zeros(Shape{3, 8, 8}), &f, nullptr), Error);     // no batch dim
  EXPECT_THROW(net->embed(Tensor(), &f, nullptr), Error);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(InceptionV3, WeightErrorsNameTheFileAndTensor) {
  auto missing = formula_weights();
  missing.erase("Mixed_6c.branch7x7dbl_3.bn.running_var");
  std::string e = error_of([&] { make_inception_v3(missing, "weights.safetensors"); });
  EXPECT_NE(e.find("weights.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("'Mixed_6c.branch7x7dbl_3.bn.running_var'"), std::string::npos) << e;

  auto misshapen = formula_weights();
  misshapen["Mixed_7b.branch3x3_2a.conv.weight"] = Tensor::zeros(Shape{384, 384, 3, 1});
  e = error_of([&] { make_inception_v3(misshapen, "weights.safetensors"); });
  EXPECT_NE(e.find("'Mixed_7b.branch3x3_2a.conv.weight' of shape (384, 384, 1, 3), got (384, 384, 3, 1)"),
            std::string::npos) << e;

  auto extra = formula_weights();
  extra["AuxLogits.fc.weight"] = Tensor::zeros(Shape{1008, 768});
  e = error_of([&] { make_inception_v3(extra, "weights.safetensors"); });
  EXPECT_NE(e.find("unexpected tensor 'AuxLogits.fc.weight'"), std::string::npos) << e;

  e = error_of([] { load_inception_v3("/nonexistent/inception_v3_fid.safetensors"); });
  EXPECT_NE(e.find("/nonexistent/inception_v3_fid.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("download_inception.sh"), std::string::npos) << e;
}

// The safetensors path end to end: formula weights written to a file, loaded back, one case.
TEST(InceptionV3, LoadsSafetensorsFile) {
  const std::string path = ::testing::TempDir() + "inception_formula.safetensors";
  TensorFile file;
  file.tensors = formula_weights();
  write_safetensors(path, file);
  auto net = load_inception_v3(path);
  std::remove(path.c_str());
  expect_matches_reference(*net, "safetensors file", "grey28");
}

// scripts/convert_inception.py's output for the formula weights (tests/metrics/
// test_convert_inception.sh makes it when torch is installed and sets this variable).
TEST(InceptionV3, ConvertedWeightFileMatchesPyTorch) {
  const char* path = std::getenv("SNGAN_INCEPTION_TEST_WEIGHTS");
  if (path == nullptr) GTEST_SKIP() << "SNGAN_INCEPTION_TEST_WEIGHTS not set";
  auto net = load_inception_v3(path);
  expect_matches_reference(*net, "converted .pth");
}

}  // namespace
}  // namespace sngan
