// Data-parallel training over MPI: the built binary under mpirun with 1, 2 and 3 ranks
// (oversubscribed, allowed as root) against one process without mpirun, on the tiny IDX set.
// One rank equals one process bit for bit; 2 and 3 ranks hold the same weights to the rounding
// of regrouped sums (tests/core/test_data_parallel.cpp measures that in-process), a checkpoint
// made on 2 ranks resumes on 3, and a rank that fails stops the whole job.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "tests/cli/cli_util.h"

namespace sngan::testing {
namespace {

namespace fs = std::filesystem;

bool mpi_ready() {
  return run_command("command -v mpirun").exit_code == 0 &&
         run_command(std::string("ldd ") + SNGAN_BINARY + " | grep -q libmpi").exit_code == 0;
}

// sngan train under `mpirun -np ranks` (ranks 0: without mpirun), at most 5 minutes.
RunResult train(int ranks, const std::string& args) {
  std::string launcher = "timeout 300 ";
  if (ranks > 0) launcher += "mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " ";
  // Open MPI keeps some allocations until exit: no leak report from sanitized builds for them.
  return run_command("OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=0 " + launcher + SNGAN_BINARY + " train " + args);
}

// step -> (loss_d, loss_g) from a run's log.jsonl.
std::map<int64_t, std::pair<double, double>> losses(const fs::path& run) {
  std::map<int64_t, std::pair<double, double>> out;
  std::istringstream in(read_file(run / "log.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("loss_d")) out[j["step"].get<int64_t>()] = {j["loss_d"].get<double>(), j["loss_g"].get<double>()};
  }
  return out;
}

// Biases that feed a batch norm have a zero gradient but for rounding, so Adam moves them by
// noise that depends on how sums are grouped (tests/core/test_data_parallel.cpp); so do the
// running means after them. Their names in these models:
bool feeds_batch_norm(const std::string& state_name) {
  std::string name = state_name;
  for (const char* opt : {"optimizer_g.m.", "optimizer_g.v."})
    if (name.rfind(opt, 0) == 0) name = "generator." + name.substr(std::string(opt).size());
  auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (has("running_mean")) return true;
  if (!has(".bias") || !has("generator")) return false;
  return (has("deconv") && !has("deconv3")) || has("block") || has(".dense.");
}

constexpr double kTolerance = 1e-3;  // relative, per tensor (||a - b|| / ||b||) and per loss

// Compares two runs' latest checkpoints tensor by tensor and their logged losses: exactly, or
// within kTolerance but for feeds_batch_norm.
void compare_runs(const fs::path& a, const fs::path& b, bool exact, const std::string& what) {
  const TensorFile x = read_safetensors((a / "checkpoints/latest.safetensors").string());
  const TensorFile y = read_safetensors((b / "checkpoints/latest.safetensors").string());
  ASSERT_EQ(x.tensors.size(), y.tensors.size()) << what;
  EXPECT_EQ(x.metadata.at("iteration"), y.metadata.at("iteration")) << what;
  EXPECT_EQ(x.metadata.at("rng.z"), y.metadata.at("rng.z")) << what;
  EXPECT_EQ(x.metadata.at("loader.position"), y.metadata.at("loader.position")) << what;
  for (const auto& [name, t] : x.tensors) {
    const Tensor& u = y.tensors.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << what << ": " << name;
    if (exact) {
      EXPECT_EQ(t.to_vector(), u.to_vector()) << what << ": " << name;
      continue;
    }
    if (feeds_batch_norm(name)) continue;
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < t.numel(); ++i) {
      diff += (double(t[i]) - u[i]) * (double(t[i]) - u[i]);
      norm += double(u[i]) * u[i];
    }
    EXPECT_LE(std::sqrt(diff / std::max(norm, 1e-30)), kTolerance) << what << ": " << name;
  }
  const auto la = losses(a), lb = losses(b);
  for (const auto& [step, l] : lb) {
    ASSERT_TRUE(la.count(step)) << what << ": no log line for step " << step;
    const auto [ld, lg] = la.at(step);
    if (exact) {
      EXPECT_EQ(ld, l.first) << what << ": loss_d at step " << step;
      EXPECT_EQ(lg, l.second) << what << ": loss_g at step " << step;
    } else {
      EXPECT_NEAR(ld, l.first, kTolerance * std::abs(l.first)) << what << ": loss_d at step " << step;
      EXPECT_NEAR(lg, l.second, kTolerance * std::abs(l.second)) << what << ": loss_g at step " << step;
    }
  }
}

class Mpi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mpi_ready()) GTEST_SKIP() << "sngan was built without MPI or mpirun is missing (scripts/setup.sh installs both)";
    fs::create_directories(tmp_.path() / "data");
    write_tiny_idx(tmp_.path() / "data", 64);
  }
  // The tiny config; `resnet` swaps in a small ResNet (32x32 input).
  fs::path config(bool resnet, int iterations) {
    auto j = nlohmann::json::parse(tiny_config(tmp_.path() / "data", iterations));
    j["train"]["batch_size"] = 9;  // 3 ranks take 3 rows each; 2 ranks take 4 and 5
    j["train"]["n_dis"] = 2;
    // A 16-d z: with 128 latent dims this 16-channel G's gradient at init is so small next to
    // its float rounding (BN's backward subtracts nearly equal per-sample terms) that no two
    // groupings of the sums agree on it, alone or not.
    j["model"]["z_dim"] = 16;
    j["output"]["checkpoint_every"] = 2;
    if (resnet) {
      j["data"]["image_size"] = 32;
      j["model"] = {{"architecture", "resnet"}, {"generator", {{"base_channels", 8}}},
                    {"discriminator", {{"base_channels", 8}}}};
    }
    const fs::path p = tmp_.path() / (std::string(resnet ? "resnet" : "cnn") + std::to_string(iterations) + ".json");
    write_file(p, j.dump());
    return p;
  }
  fs::path run(const std::string& name) const { return tmp_.path() / name; }
  // Trains cfg alone and on 1, 2 and 3 ranks, and compares each with the lone run.
  void check_rank_counts(const fs::path& cfg) {
    const RunResult alone = train(0, "--config " + cfg.string() + " --out " + run("alone").string());
    ASSERT_EQ(alone.exit_code, 0) << alone.output;
    for (int ranks : {1, 2, 3}) {
      const std::string name = "ranks" + std::to_string(ranks);
      const RunResult r = train(ranks, "--config " + cfg.string() + " --out " + run(name).string());
      ASSERT_EQ(r.exit_code, 0) << r.output;
      compare_runs(run(name), run("alone"), ranks == 1, name);
    }
  }
  TempDir tmp_;
};

TEST_F(Mpi, StandardCnnOverOneTwoThreeRanksMatchesOneProcess) {
  check_rank_counts(config(false, 4));
}

TEST_F(Mpi, ResNetOverOneTwoThreeRanksMatchesOneProcess) {
  check_rank_counts(config(true, 3));
}

TEST_F(Mpi, CheckpointOfTwoRanksResumesOnThree) {
  const RunResult alone = train(0, "--config " + config(false, 4).string() + " --out " + run("alone").string());
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  RunResult r = train(2, "--config " + config(false, 2).string() + " --out " + run("resumed").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = train(3, "--config " + config(false, 4).string() + " --out " + run("resumed").string() + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  compare_runs(run("resumed"), run("alone"), false, "2 ranks, then 3");
  // Rank 0 alone writes the log: one line per logged step.
  std::istringstream log(read_file(run("resumed") / "log.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, static_cast<int>(losses(run("resumed")).size()));
}

TEST_F(Mpi, AFailureOnRankZeroStopsEveryRank) {
  // --out is a file: rank 0 refuses it while the other ranks wait for its state.
  write_file(run("taken"), "not a directory");
  const RunResult r = train(3, "--config " + config(false, 4).string() + " --out " + run("taken").string());
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.exit_code, 124) << "timed out: a rank kept waiting\n" << r.output;
  EXPECT_NE(r.output.find(run("taken").string()), std::string::npos) << r.output;
}

TEST_F(Mpi, CommandsThatRunAloneRefuseSeveralRanks) {
  const RunResult r = run_command("timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 " +
                                  std::string(SNGAN_BINARY) + " sample --checkpoint x --out y");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("only train, bench and eval run over MPI ranks"), std::string::npos) << r.output;
}

// sngan eval splits the generated (or real) images over the ranks: the same scores as alone.
TEST_F(Mpi, EvalOverRanksScoresAsOneProcess) {
  const fs::path cfg = config(false, 2);
  ASSERT_EQ(train(0, "--config " + cfg.string() + " --out " + run("gan").string()).exit_code, 0);
  fs::copy_file(tmp_.path() / "data/train-images-idx3-ubyte", tmp_.path() / "data/t10k-images-idx3-ubyte");
  fs::copy_file(tmp_.path() / "data/train-labels-idx1-ubyte", tmp_.path() / "data/t10k-labels-idx1-ubyte");
  write_file(run("classifier.json"), R"({"seed": 2, "threads": 1, "data": {"path": ")" + (tmp_.path() / "data").string() +
             R"(", "image_size": 16, "fit": "resize"}, "model": {"channels": [4, 8], "feature_dim": 16},
             "train": {"iterations": 10, "batch_size": 16, "lr": 0.003}})");
  const std::string features = run("classifier.safetensors").string();
  RunResult r = run_sngan("classifier train --config " + run("classifier.json").string() + " --out " + features);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // (No precision/recall: the tiny set repeats 4 images, so its k-NN radii are 0 and float
  // rounding decides which samples fall inside them.)
  const std::string common = " --features " + features + " --reference " + cfg.string() + " --metrics fd,kid";
  auto eval = [&](int ranks, const std::string& what, const std::string& out) {
    const std::string launcher = ranks == 0 ? "" : "mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " ";
    const RunResult e = run_command("OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=0 timeout 300 " + launcher +
                                    SNGAN_BINARY + " eval " + what + common + " --out " + run(out).string());
    EXPECT_EQ(e.exit_code, 0) << e.output;
    return nlohmann::json::parse(read_file(run(out)));
  };
  for (const std::string what : {"--checkpoint " + (run("gan") / "checkpoints/latest.safetensors").string() + " --n 50",
                                 "--data " + cfg.string() + " --n 40"}) {
    const auto alone = eval(0, what, "alone.json"), split = eval(3, what, "split.json");
    EXPECT_EQ(split["n"], alone["n"]) << what;
    EXPECT_EQ(split["class_histogram"], alone["class_histogram"]) << what;
    const double fd = alone["metrics"]["fd"].get<double>();
    EXPECT_NEAR(split["metrics"]["fd"].get<double>(), fd, 1e-4 * std::max(1.0, fd)) << what;
    EXPECT_NEAR(split["metrics"]["kid"]["mean"].get<double>(), alone["metrics"]["kid"]["mean"].get<double>(), 1e-5) << what;
  }
}

}  // namespace
}  // namespace sngan::testing
