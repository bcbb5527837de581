// The discriminator methods through the built binary: a WGAN-GP run and a batch-norm-in-D run
// stopped and resumed from their checkpoint end with the same bytes as uninterrupted runs (the
// penalty's draws and the BN running statistics live in the checkpoint).
#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.h"

namespace sngan::testing {
namespace {

namespace fs = std::filesystem;

class DMethodsCli : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_.path() / "data");
    write_tiny_idx(tmp_.path() / "data", 64);
  }
  fs::path config(int iterations, const std::string& name) {
    fs::path p = tmp_.path() / name;
    write_file(p, tiny_config(tmp_.path() / "data", iterations));
    return p;
  }
  TempDir tmp_;
};

TEST_P(DMethodsCli, ResumeContinuesBitForBit) {
  const std::string sets = GetParam();
  const fs::path straight = tmp_.path() / "straight", split = tmp_.path() / "split";
  RunResult r = run_sngan("train --config " + config(8, "full.json").string() + sets + " --out " +
                          straight.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(run_sngan("train --config " + config(4, "short.json").string() + sets + " --out " +
                      split.string()).exit_code, 0);
  r = run_sngan("train --resume --out " + split.string() + " --config " +
                config(8, "full.json").string() + sets);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(straight / "checkpoints" / "latest.safetensors"),
            read_file(split / "checkpoints" / "latest.safetensors"));
  const auto resolved = nlohmann::json::parse(read_file(straight / "config.json"));
  EXPECT_NE(resolved.dump().find(sets.find("batch_norm") != std::string::npos ? "batch_norm"
                                                                              : "gradient_penalty"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Methods, DMethodsCli,
    ::testing::Values(" --set train.loss=wasserstein --set train.gradient_penalty=10",
                      " --set model.discriminator.normalization=batch_norm"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      return std::string(info.index == 0 ? "WganGp" : "BatchNormInD");
    });

}  // namespace
}  // namespace sngan::testing
