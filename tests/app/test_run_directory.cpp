// The run-directory rules (app/run_directory.h), without a training loop.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "app/config.h"
#include "app/run_directory.h"
#include "tests/cli/cli_util.h"

namespace sngan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::read_file;
using testing::TempDir;

void write_file(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  testing::write_file(p, s);
}

json resolved_config(const fs::path& data_dir, int iterations, int threads = 1) {
  json doc = json::parse(testing::tiny_config(data_dir, iterations));
  doc["threads"] = threads;
  return parse_run_config(doc, "tiny.json").resolved;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(RunDirectory, CheckpointCandidatesAreLatestThenNewestStepFirst) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "checkpoints";
  fs::create_directories(dir);
  for (const char* name : {"step_0000004.safetensors", "step_10000000.safetensors", "step_9999999.safetensors",
                           "latest.safetensors", "step_0000008.safetensors.tmp.123", "notes.txt"})
    write_file(dir / name, "x");
  std::vector<std::string> names;
  for (const auto& p : checkpoint_candidates(dir)) names.push_back(p.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"latest.safetensors", "step_10000000.safetensors",
                                             "step_9999999.safetensors", "step_0000004.safetensors"}));
  EXPECT_TRUE(checkpoint_candidates(tmp.path() / "missing").empty());
}

TEST(RunDirectory, TrimLogKeepsLinesUpToTheCheckpointAndDropsCutLines) {
  TempDir tmp;
  const fs::path log = tmp.path() / "log.jsonl";
  write_file(log, "{\"step\": 2, \"loss_d\": 1.5, \"loss_g\": 0.5}\n{\"step\": 4, \"loss_d\": 1.0}\n"
                  "{\"step\": 6, \"loss_d\": 9}\n{\"step\": 8, \"lo");
  const LossHistory h = trim_log(log, 4);
  EXPECT_EQ(h.step, (std::vector<double>{2, 4}));
  EXPECT_EQ(h.loss_d, (std::vector<double>{1.5, 1.0}));
  EXPECT_DOUBLE_EQ(h.loss_g[0], 0.5);
  EXPECT_TRUE(std::isnan(h.loss_g[1]));
  EXPECT_EQ(read_file(log), "{\"step\": 2, \"loss_d\": 1.5, \"loss_g\": 0.5}\n{\"step\": 4, \"loss_d\": 1.0}\n");
}

TEST(RunDirectory, StaleTemporariesAreRemovedAndNothingElse) {
  TempDir tmp;
  write_file(tmp.path() / "latest.safetensors.tmp.4242", "partial");
  write_file(tmp.path() / "latest.safetensors", "kept");
  remove_stale_temp_files({tmp.path(), tmp.path() / "missing"});
  EXPECT_FALSE(fs::exists(tmp.path() / "latest.safetensors.tmp.4242"));
  EXPECT_TRUE(fs::exists(tmp.path() / "latest.safetensors"));
}

TEST(RunDirectory, AnExistingRunNeedsResume) {
  TempDir tmp;
  const json cfg = resolved_config(tmp.path(), 10);
  write_file(tmp.path() / "run" / "config.json", cfg.dump(2));
  EXPECT_NE(error_of([&] { RunDirectory(tmp.path() / "run", cfg, false); }).find("already holds a run"),
            std::string::npos);
  RunDirectory(tmp.path() / "run", cfg, true);  // accepted
}

TEST(RunDirectory, CheckpointsWithoutConfigAreRefused) {
  TempDir tmp;
  write_file(tmp.path() / "run" / "checkpoints" / "latest.safetensors", "x");
  const json cfg = resolved_config(tmp.path(), 10);
  for (bool resume : {false, true})
    EXPECT_NE(error_of([&] { RunDirectory(tmp.path() / "run", cfg, resume); }).find("holds checkpoints but no"),
              std::string::npos);
}

TEST(RunDirectory, AResumeMayChangeOnlyIterationsAndThreads) {
  TempDir tmp;
  write_file(tmp.path() / "run" / "config.json", resolved_config(tmp.path(), 10).dump(2));
  RunDirectory(tmp.path() / "run", resolved_config(tmp.path(), 20, 2), true);  // accepted
  json other = resolved_config(tmp.path(), 10);
  other["train"]["lr_g"] = 1e-3;
  other["model"]["z_dim"] = 7;
  const std::string message = error_of([&] { RunDirectory(tmp.path() / "run", other, true); });
  EXPECT_NE(message.find("/model/z_dim"), std::string::npos) << message;
  EXPECT_NE(message.find("/train/lr_g"), std::string::npos) << message;
}

TEST(RunDirectory, OneTrainerPerDirectory) {
  TempDir tmp;
  const json cfg = resolved_config(tmp.path(), 10);
  RunDirectory first(tmp.path() / "run", cfg, false);
  first.open(true);
  EXPECT_TRUE(fs::is_directory(first.sample_dir()));
  EXPECT_TRUE(fs::is_directory(first.checkpoint_dir()));
  RunDirectory second(tmp.path() / "run", cfg, false);
  EXPECT_NE(error_of([&] { second.open(true); }).find("is in use by another sngan process"), std::string::npos);
}

}  // namespace
}  // namespace sngan
