// End to end: `sngan classifier train`, `sngan stats` and `sngan eval` through the built binary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "tests/cli/cli_util.h"

namespace sngan::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One tiny world shared by the tests: data, a classifier, a GAN checkpoint and a stats file.
class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    const fs::path dir = tmp_->path();
    fs::create_directories(dir / "data");
    write_tiny_idx(dir / "data", 64);
    fs::copy_file(dir / "data/train-images-idx3-ubyte", dir / "data/t10k-images-idx3-ubyte");
    fs::copy_file(dir / "data/train-labels-idx1-ubyte", dir / "data/t10k-labels-idx1-ubyte");
    write_file(dir / "run.json", tiny_config(dir / "data", 4));
    write_file(dir / "classifier.json", classifier_config(dir, 2, 30));
    setup_ = run_sngan("classifier train --config " + (dir / "classifier.json").string() + " --out " +
                       (dir / "classifier.safetensors").string());
    if (setup_.exit_code != 0) return;
    setup_ = run_sngan("train --config " + (dir / "run.json").string() + " --out " + (dir / "run").string());
    if (setup_.exit_code != 0) return;
    setup_ = run_sngan("stats --config " + (dir / "run.json").string() + " --features " +
                       (dir / "classifier.safetensors").string() + " --out " + (dir / "ref.safetensors").string());
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  static std::string classifier_config(const fs::path& dir, int seed, int iterations) {
    std::ostringstream os;
    os << R"({"seed": )" << seed << R"(, "threads": 1, "data": {"path": ")" << (dir / "data").string()
       << R"(", "image_size": 16, "fit": "resize"}, "model": {"channels": [4, 8], "feature_dim": 16},
       "train": {"iterations": )" << iterations << R"(, "batch_size": 16, "lr": 0.003}})";
    return os.str();
  }
  void SetUp() override { ASSERT_EQ(setup_.exit_code, 0) << setup_.output; }
  fs::path p(const std::string& name) const { return tmp_->path() / name; }
  std::string checkpoint() const { return p("run/checkpoints/latest.safetensors").string(); }

  static TempDir* tmp_;
  static RunResult setup_;
};
TempDir* EvalCli::tmp_ = nullptr;
RunResult EvalCli::setup_;

void expect_sane_metrics(const json& j, int64_t n, const std::string& context) {
  ASSERT_TRUE(j.contains("metrics")) << context;
  const json& m = j["metrics"];
  for (const char* key : {"fd", "kid", "is", "pr"}) ASSERT_TRUE(m.contains(key)) << key << "\n" << context;
  EXPECT_TRUE(std::isfinite(m["fd"].get<double>()));
  EXPECT_GE(m["fd"].get<double>(), -1e-6);
  EXPECT_TRUE(std::isfinite(m["kid"]["mean"].get<double>()));
  EXPECT_GE(m["is"]["mean"].get<double>(), 1.0 - 1e-9);
  EXPECT_LE(m["is"]["mean"].get<double>(), 10.0 + 1e-9);  // at most the number of classes
  for (const char* key : {"precision", "recall"}) {
    EXPECT_GE(m["pr"][key].get<double>(), 0.0);
    EXPECT_LE(m["pr"][key].get<double>(), 1.0);
  }
  int64_t total = 0;
  for (int64_t c : j["class_histogram"].get<std::vector<int64_t>>()) total += c;
  EXPECT_EQ(total, n);
  EXPECT_EQ(j["n"].get<int64_t>(), n);
  EXPECT_GT(j["images_per_second"].get<double>(), 0.0);
}

TEST_F(EvalCli, StatsFileHoldsTheStatisticsAndNamesTheNetwork) {
  const TensorFile f = read_safetensors(p("ref.safetensors").string());
  EXPECT_EQ(f.tensors.at("mean").shape(), (Shape{16}));
  EXPECT_EQ(f.tensors.at("cov").shape(), (Shape{16, 16}));
  EXPECT_EQ(f.tensors.at("features").shape(), (Shape{64, 16}));
  EXPECT_EQ(f.metadata.at("count"), "64");
  EXPECT_EQ(f.metadata.at("feature_network").rfind("classifier:", 0), 0u);
  double total = 0;
  for (int64_t i = 0; i < f.tensors.at("class_histogram").numel(); ++i) total += f.tensors.at("class_histogram")[i];
  EXPECT_EQ(total, 64);
}

TEST_F(EvalCli, CheckpointEvalWritesEveryMetric) {
  const RunResult r = run_sngan("eval --checkpoint " + checkpoint() + " --n 40 --ema --reference " +
                                p("ref.safetensors").string() + " --features " +
                                p("classifier.safetensors").string() + " --out " + p("m.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("precision"), std::string::npos) << r.output;
  const json j = json::parse(read_file(p("m.json")));
  expect_sane_metrics(j, 40, r.output);
  EXPECT_EQ(j["iteration"].get<int64_t>(), 4);
}

TEST_F(EvalCli, ImageFolderIsScoredAndAFolderWithoutImagesIsRefused) {
  ASSERT_EQ(run_sngan("sample --checkpoint " + checkpoint() + " --n 12 --out " + p("samples").string()).exit_code, 0);
  const RunResult r = run_sngan("eval --images " + (p("data")).string() + " --reference " + p("run.json").string() +
                                " --features " + p("classifier.safetensors").string() + " --out " +
                                p("self.json").string());
  // the tiny IDX folder holds no PNGs: expect a clear error naming it
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(p("data").string()), std::string::npos) << r.output;
  const RunResult s = run_sngan("eval --images " + p("samples").string() + " --metrics fd,pr --reference " +
                                p("ref.safetensors").string() + " --features " +
                                p("classifier.safetensors").string() + " --out " + p("img.json").string());
  ASSERT_EQ(s.exit_code, 0) << s.output;
  const json j = json::parse(read_file(p("img.json")));
  EXPECT_TRUE(j["metrics"].contains("fd"));
  EXPECT_FALSE(j["metrics"].contains("kid"));
  EXPECT_EQ(j["n"].get<int64_t>(), 12);
}

TEST_F(EvalCli, BadInputsFailNamingTheProblem) {
  const std::string feats = " --features " + p("classifier.safetensors").string();
  const std::string ref = " --reference " + p("ref.safetensors").string();
  struct Case {
    std::string args, expect;
  };
  write_file(p("garbage.safetensors"), "this is not a safetensors file at all");
  write_file(p("other.json"), classifier_config(tmp_->path(), 5, 3));
  ASSERT_EQ(run_sngan("classifier train --config " + p("other.json").string() + " --out " +
                      p("other.safetensors").string()).exit_code, 0);
  write_file(p("bad_key.json"), R"({"data": {"path": "x", "colour": 1}})");
  const std::vector<Case> cases = {
      {"eval --checkpoint " + checkpoint() + ref + " --features " + p("missing.safetensors").string(),
       p("missing.safetensors").string()},
      {"eval --checkpoint " + checkpoint() + feats + " --reference " + p("garbage.safetensors").string(),
       p("garbage.safetensors").string()},
      {"eval --checkpoint " + p("nope.safetensors").string() + ref + feats, p("nope.safetensors").string()},
      {"eval --checkpoint " + checkpoint() + ref + " --features " + p("other.safetensors").string(),
       "made with feature network"},
      {"eval --checkpoint " + checkpoint() + ref + feats + " --n 5", "at least 10 samples"},
      {"eval --checkpoint " + checkpoint() + ref + feats + " --metrics fd,xyz", "xyz"},
      {"eval --checkpoint " + checkpoint() + " --features " + p("ref.safetensors").string() + ref,
       "got a statistics file"},
      {"classifier train --config " + p("bad_key.json").string(), "data.colour"},
      // Without --features, the FID Inception weights are expected where the download script puts them.
      {"eval --checkpoint " + checkpoint() + ref, "scripts/download_inception.sh"},
      {"stats --config " + p("run.json").string() + " --features " + p("garbage.safetensors").string() +
           " --out " + p("x.safetensors").string(),
       p("garbage.safetensors").string()},
  };
  for (const Case& c : cases) {
    const RunResult r = run_sngan(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
  }
}

// The real Fashion-MNIST: a short training must already classify most of the test split
// (the full configs/classifier_fashion_mnist.json run reaches >= 90%).
// The eval lines of a run's log.jsonl.
std::vector<json> evaluations(const fs::path& run) {
  std::vector<json> out;
  std::istringstream log(read_file(run / "log.jsonl"));
  std::string line;
  while (std::getline(log, line)) {
    json j = json::parse(line);
    if (j.contains("eval")) out.push_back(j);
  }
  return out;
}

TEST_F(EvalCli, EvaluationDuringTrainingLogsKeepsTheBestAndLeavesTrainingUnchanged) {
  const std::string eval_keys = " --set output.eval_every=4 --set output.eval_samples=20 --set output.eval_real_images=64"
                                " --set output.eval_features=" + p("classifier.safetensors").string();
  const std::string base = "train --config " + p("run.json").string();
  ASSERT_EQ(run_sngan(base + " --set train.iterations=8 --out " + p("plain").string()).exit_code, 0);
  RunResult r = run_sngan(base + " --set train.iterations=8" + eval_keys + " --out " + p("evaluated").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<json> evals = evaluations(p("evaluated"));
  ASSERT_EQ(evals.size(), 2u) << r.output;
  EXPECT_EQ(evals[0]["step"], 4);
  EXPECT_EQ(evals[1]["step"], 8);
  for (const json& e : evals) {
    EXPECT_TRUE(std::isfinite(e["eval"]["fd"].get<double>())) << e.dump();
    EXPECT_EQ(e["eval"]["n"], 20);
  }
  EXPECT_TRUE(fs::exists(p("evaluated/checkpoints/best.safetensors")));
  EXPECT_TRUE(fs::exists(p("evaluated/eval_fd.png")));
  EXPECT_NE(read_file(p("evaluated/report.html")).find("Latest evaluation"), std::string::npos);
  // Training does not depend on the evaluation: the weights are the same as without it.
  const TensorFile a = read_safetensors(p("plain/checkpoints/latest.safetensors").string());
  const TensorFile b = read_safetensors(p("evaluated/checkpoints/latest.safetensors").string());
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(name)) << name;
    const Tensor& u = b.tensors.at(name);
    ASSERT_EQ(t.numel(), u.numel()) << name;
    EXPECT_EQ(0, std::memcmp(t.data(), u.data(), sizeof(float) * t.numel())) << name;
  }
  // A resumed run evaluates the same images the same way, and the best survives the resume.
  ASSERT_EQ(run_sngan(base + " --set train.iterations=4" + eval_keys + " --out " + p("resumed").string()).exit_code, 0);
  r = run_sngan(base + " --set train.iterations=8" + eval_keys + " --out " + p("resumed").string() + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<json> again = evaluations(p("resumed"));
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1]["eval"]["fd"], evals[1]["eval"]["fd"]);
  EXPECT_EQ(again[1]["eval"]["class_histogram"], evals[1]["eval"]["class_histogram"]);
  // A missing feature network fails before anything is written.
  r = run_sngan(base + " --set output.eval_every=2 --set output.eval_features=" + p("none.safetensors").string() +
                " --out " + p("never").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("none.safetensors"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(p("never")));
}

TEST(ClassifierCli, ShortTrainingClassifiesFashionMnist) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "minutes under AddressSanitizer (the whole Fashion-MNIST set); the plain pass runs it";
#endif
  if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
  TempDir tmp;
  write_file(tmp.path() / "c.json", R"({"threads": 1, "data": {"path": "/usr/share/datasets/fashion-mnist"},
    "train": {"iterations": 200}, "test_limit": 2000})");
  const RunResult r = run_sngan("classifier train --config " + (tmp.path() / "c.json").string() + " --out " +
                                (tmp.path() / "c.safetensors").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const TensorFile f = read_safetensors((tmp.path() / "c.safetensors").string());
  EXPECT_EQ(f.metadata.at("feature_extractor"), "classifier");
  EXPECT_EQ(f.metadata.at("test_examples"), "2000");
  const double accuracy = std::stod(f.metadata.at("test_accuracy"));
  EXPECT_GE(accuracy, 0.80) << r.output;
  EXPECT_NE(r.output.find("test accuracy"), std::string::npos);
}

}  // namespace
}  // namespace sngan::testing
