// End-to-end tests of the built binary: train, sample, dry-run, resume, bad input.
#include "tests/cli/cli_util.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace sngan::testing {
namespace {

namespace fs = std::filesystem;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_.path() / "data");
    write_tiny_idx(tmp_.path() / "data", 64);
  }
  fs::path config(int iterations, const std::string& name = "tiny.json") {
    fs::path p = tmp_.path() / name;
    write_file(p, tiny_config(tmp_.path() / "data", iterations));
    return p;
  }
  TempDir tmp_;
};

TEST_F(Cli, TrainWritesConfigLogGridPlotAndCheckpoint) {
  const fs::path out = tmp_.path() / "run";
  RunResult r = run_sngan("train --config " + config(10).string() + " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out / "config.json"));
  EXPECT_TRUE(fs::exists(out / "loss.png"));
  EXPECT_TRUE(fs::exists(out / "samples" / "epoch_0001.png"));  // 64 images / 8 = 8 batches an epoch
  EXPECT_TRUE(fs::exists(out / "samples" / "final.png"));
  EXPECT_TRUE(fs::exists(out / "checkpoints" / "latest.safetensors"));
  EXPECT_TRUE(fs::exists(out / "checkpoints" / "step_0000008.safetensors"));
  std::istringstream log(read_file(out / "log.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    ++lines;
    EXPECT_EQ(j["step"].get<int>(), 2 * lines);
    for (const char* key : {"epoch", "loss_d", "loss_g", "d_real", "d_fake", "lr_g", "lr_d",
                            "sec_per_iter", "images_per_sec"})
      EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["sigma"].size(), 8u);  // 7 convs + dense, all spectrally normalized
  }
  EXPECT_EQ(lines, 5);
  // A second run into the same directory without --resume is refused, and touches nothing.
  const std::string before = read_file(out / "checkpoints" / "latest.safetensors");
  r = run_sngan("train --config " + config(10).string() + " --out " + out.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("already holds a run"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(out / "checkpoints" / "latest.safetensors"), before);
}

// The number after " KEY=" in the output (NaN when absent).
double result_value(const std::string& output, const std::string& key) {
  const size_t at = output.find(" " + key + "=");
  if (at == std::string::npos) return std::nan("");
  return std::stod(output.substr(at + key.size() + 2));
}

TEST_F(Cli, BenchStatesTheCpuAndReportsTheStepAgainstTheMeasuredPeaks) {
  RunResult r = run_sngan("bench --config " + config(10).string() + " --iters 2 --warmup 0 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("CPU: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("AVX-512 "), std::string::npos) << r.output;
  const double ms = result_value(r.output, "ms_per_iter");
  const double sgemm = result_value(r.output, "sgemm_gflops");
  const double fma = result_value(r.output, "fma_peak_gflops");
  const double bf16 = result_value(r.output, "bf16_peak_gflops");
  const double amx = result_value(r.output, "amx_bf16_peak_gflops");
  EXPECT_GT(ms, 0) << r.output;
  EXPECT_GT(sgemm, 0) << r.output;
  EXPECT_GE(fma, 0) << r.output;  // 0 only on a CPU without FMA3
  EXPECT_GE(bf16, 0) << r.output;
  EXPECT_GE(amx, 0) << r.output;
  EXPECT_NE(r.output.find("of the fp32 peak"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("precision=fp32"), std::string::npos) << r.output;
}

TEST_F(Cli, BenchTimesTheBf16ModeAndRefusesAnUnknownPrecision) {
  RunResult r = run_sngan("bench --config " + config(10).string() +
                          " --iters 1 --warmup 0 --threads 1 --set train.precision=bf16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("precision=bf16"), std::string::npos) << r.output;
  // The engine the CPU's measured peaks say it has: AMX tiles, else AVX512_BF16, else emulation.
  const char* engine = result_value(r.output, "amx_bf16_peak_gflops") > 0 ? "bf16 (AMX-BF16 tiles)"
                       : result_value(r.output, "bf16_peak_gflops") > 0   ? "bf16 (AVX512_BF16 dot products)"
                                                                          : "bf16 (emulated)";
  EXPECT_NE(r.output.find(engine), std::string::npos) << r.output;
  RunResult bad = run_sngan("bench --config " + config(10).string() + " --iters 1 --set train.precision=fp16");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("train.precision"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("bf16"), std::string::npos) << bad.output;  // names the accepted values
}

TEST_F(Cli, SampleWithTheSameSeedWritesIdenticalFiles) {
  const fs::path out = tmp_.path() / "run";
  ASSERT_EQ(run_sngan("train --config " + config(4).string() + " --out " + out.string()).exit_code, 0);
  const std::string ckpt = (out / "checkpoints" / "latest.safetensors").string();
  for (const char* dir : {"a", "b"}) {
    RunResult r = run_sngan("sample --checkpoint " + ckpt + " --n 5 --seed 7 --grid --ema --out " +
                            (tmp_.path() / dir).string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  for (const char* f : {"sample_00000.png", "sample_00004.png", "grid.png"}) {
    const std::string a = read_file(tmp_.path() / "a" / f), b = read_file(tmp_.path() / "b" / f);
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, b) << f;
  }
  RunResult other = run_sngan("sample --checkpoint " + ckpt + " --n 5 --seed 8 --out " +
                              (tmp_.path() / "c").string());
  ASSERT_EQ(other.exit_code, 0) << other.output;
  EXPECT_NE(read_file(tmp_.path() / "a" / "sample_00000.png"),
            read_file(tmp_.path() / "c" / "sample_00000.png"));
}

TEST_F(Cli, ResumeContinuesBitForBit) {
  // 12 iterations straight == 8 iterations, stop, resume, 4 more.
  const fs::path straight = tmp_.path() / "straight", split = tmp_.path() / "split";
  ASSERT_EQ(run_sngan("train --config " + config(12).string() + " --out " + straight.string()).exit_code, 0);
  ASSERT_EQ(run_sngan("train --config " + config(8, "short.json").string() + " --out " + split.string()).exit_code, 0);
  RunResult r = run_sngan("train --resume --out " + split.string() + " --config " + config(12).string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(straight / "checkpoints" / "latest.safetensors"),
            read_file(split / "checkpoints" / "latest.safetensors"));
  EXPECT_EQ(read_file(straight / "log.jsonl").size() > 0, true);
  // The loss sequence matches too (timing fields differ).
  auto losses = [](const fs::path& log) {
    std::istringstream in(read_file(log));
    std::string line, out;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      out += j["loss_d"].dump() + "," + j["loss_g"].dump() + ";";
    }
    return out;
  };
  EXPECT_EQ(losses(straight / "log.jsonl"), losses(split / "log.jsonl"));
}

TEST_F(Cli, ResumeOnAnotherThreadCountContinuesBitForBit) {
  // Layers large enough that the convolutions split over the threads. 8 iterations on 3
  // threads straight == 4 on 1 thread, then resumed on 3 threads for 4 more (config.json and
  // so the checkpoints' metadata then say 3 threads in both).
  auto config_json = nlohmann::json::parse(tiny_config(tmp_.path() / "data", 8));
  config_json["model"]["generator"]["base_channels"] = 64;
  config_json["model"]["discriminator"]["conv_channels"] = {16, 16, 32, 32, 64, 64, 128};
  config_json["train"]["batch_size"] = 16;
  const fs::path cfg = tmp_.path() / "wider.json", straight = tmp_.path() / "straight",
                 split = tmp_.path() / "split";
  write_file(cfg, config_json.dump());
  ASSERT_EQ(run_sngan("train --config " + cfg.string() + " --set threads=3 --out " + straight.string()).exit_code, 0);
  RunResult r = run_sngan("train --config " + cfg.string() + " --set threads=1 --set train.iterations=4 --out " +
                          split.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_sngan("train --resume --config " + cfg.string() + " --set threads=3 --out " + split.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(straight / "checkpoints" / "latest.safetensors"),
            read_file(split / "checkpoints" / "latest.safetensors"));
}

TEST_F(Cli, DryRunReportsThePapersMultiplyAdds) {
  RunResult r = run_sngan(std::string("train --dry-run --config ") + SNGAN_SOURCE_DIR + "/configs/cifar.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("103.5M multiply-adds"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("108.7M multiply-adds"), std::string::npos) << r.output;
}

// Every shipped config parses and builds its models at full size. Under AddressSanitizer
// (scripts/test.sh's second pass) the ResNet configs take minutes, so that pass checks the
// others; the plain pass checks them all.
TEST_F(Cli, EveryShippedConfigPassesADryRun) {
#ifdef __SANITIZE_ADDRESS__
  const bool skip_resnet = true;
#else
  const bool skip_resnet = false;
#endif
  int seen = 0;
  for (const auto& e : fs::directory_iterator(fs::path(SNGAN_SOURCE_DIR) / "configs")) {
    if (e.path().extension() != ".json") continue;
    if (e.path().filename().string().rfind("classifier_", 0) == 0) continue;  // classifier train configs
    ++seen;
    if (skip_resnet && e.path().filename().string().find("resnet") != std::string::npos) continue;
    RunResult r = run_sngan("train --dry-run --config " + e.path().string());
    EXPECT_EQ(r.exit_code, 0) << e.path() << "\n" << r.output;
    EXPECT_NE(r.output.find("GFLOP"), std::string::npos) << e.path() << "\n" << r.output;
  }
  EXPECT_GE(seen, 8);
}

// Without drop_last an epoch ends with a short batch (64 = 24 + 24 + 16).
TEST_F(Cli, TrainsThroughAShortLastBatchWithoutDropLast) {
  const fs::path out = tmp_.path() / "run";
  RunResult r = run_sngan("train --config " + config(4).string() + " --out " + out.string() +
                          " --set data.drop_last=false --set train.batch_size=24");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 batches per epoch"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out / "samples" / "epoch_0001.png"));
}

TEST_F(Cli, BadInputGetsOneClearMessage) {
  struct Case { std::string args, expect; };
  const std::string cfg = config(4).string();
  write_file(tmp_.path() / "bad_key.json", R"({"data": {"format": "ring8"}, "train": {"lrr": 0.1}})");
  write_file(tmp_.path() / "bad_type.json", R"({"data": {"format": "ring8"}, "train": {"batch_size": "many"}})");
  write_file(tmp_.path() / "not_json.json", "{ nope");
  write_file(tmp_.path() / "garbage.safetensors", "this is not a checkpoint");
  const std::vector<Case> cases = {
      {"train --config " + (tmp_.path() / "bad_key.json").string(), "unknown key 'train.lrr'"},
      {"train --config " + (tmp_.path() / "bad_type.json").string(), "train.batch_size: expected an integer"},
      {"train --config " + (tmp_.path() / "not_json.json").string(), "not valid JSON"},
      {"train --config " + (tmp_.path() / "missing.json").string(), "cannot open the config file"},
      {"train --config " + cfg + " --set train.lr_d=0", "train.lr_d: expected a value in (0"},
      {"train --config " + cfg + " --set train.beta1=1", "train.beta1: expected a value in [0, 1)"},
      {"train --config " + cfg + " --set train.lr=0.001 --set train.lr_g=0.002", "train.lr: expected either"},
      {"train --config " + cfg + " --set train.n_dis=0", "train.n_dis: expected an integer in [1"},
      {"train --config " + cfg + " --set train.batch_size=0", "train.batch_size: expected an integer in [1"},
      {"train --config " + cfg + " --set data.image_size=20", "data.image_size: expected a multiple of 8"},
      {"train --config " + cfg + " --set model.architecture=resnet", "data.image_size: expected 32 or 48"},
      {"train --config " + cfg + " --set data.coarse_labels=true", "data.coarse_labels: expected only with"},
      {"train --config " + cfg + " --set data.path=" + (tmp_.path() / "nothing").string(),
       (tmp_.path() / "nothing").string() + ": expected an IDX data directory or images file, got no such file"},
      {"train --config " + cfg + " --set data.path=/nonexistent/dir", "/nonexistent/dir"},
      {"train --config " + cfg + " --out /proc/sngan_cannot_write", "/proc/sngan_cannot_write"},
      {"sample --checkpoint " + (tmp_.path() / "garbage.safetensors").string() + " --out " + tmp_.path().string(),
       "garbage.safetensors"},
  };
  for (const auto& c : cases) {
    RunResult r = run_sngan(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find("sngan: error:"), std::string::npos) << r.output;
  }
}

TEST_F(Cli, AMistypedCommandIsNamedWithTheClosestOneAndExitsWithTheUsageCode) {
  RunResult r = run_sngan("trian --config x.json");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown command 'trian'; did you mean 'train'?"), std::string::npos) << r.output;
  r = run_sngan("");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("expected a command (train, sample, bench"), std::string::npos) << r.output;
  r = run_sngan("train --no-such-flag");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--no-such-flag"), std::string::npos) << r.output;
  r = run_sngan("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(Cli, AMissingDownloadableDatasetNamesTheDownloadScript) {
  const fs::path cfg = tmp_.path() / "cifar.json";
  write_file(cfg, R"({"data": {"format": "cifar10", "path": "no_such_datasets/cifar-10-batches-bin"},
                      "train": {"iterations": 1}})");
  RunResult r = run_sngan("train --config " + cfg.string() + " --out " + (tmp_.path() / "run").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no_such_datasets/cifar-10-batches-bin"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bash scripts/download_data.sh cifar10"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("a relative data.path is read from the current directory"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp_.path() / "run")) << "nothing may be written before the data are found";
}

TEST_F(Cli, TheReportReferencesOnlyFilesThatExistAndShowsEveryGridNewestFirst) {
  const fs::path out = tmp_.path() / "run";
  RunResult r = run_sngan("train --config " + config(20).string() + " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* curve : {"loss.png", "d_outputs.png", "sigma.png"}) EXPECT_TRUE(fs::exists(out / curve)) << curve;
  const std::string html = read_file(out / "report.html");
  ASSERT_FALSE(html.empty());
  std::vector<std::string> refs;
  for (const std::string attr : {"src=\"", "href=\""})
    for (size_t at = html.find(attr); at != std::string::npos; at = html.find(attr, at + 1)) {
      const size_t start = at + attr.size();
      refs.push_back(html.substr(start, html.find('"', start) - start));
    }
  ASSERT_GE(refs.size(), 6u) << html;
  for (const std::string& ref : refs) {
    EXPECT_EQ(ref.find("://"), std::string::npos) << "no network reference: " << ref;
    EXPECT_FALSE(fs::path(ref).is_absolute()) << ref;
    EXPECT_TRUE(fs::exists(out / ref)) << ref << " is referenced by report.html but does not exist";
  }
  // 64 images / 8 per batch: epochs end at iterations 8 and 16; the final grid comes first.
  const size_t final_at = html.find("samples/final.png"), e2 = html.find("samples/epoch_0002.png"),
               e1 = html.find("samples/epoch_0001.png");
  ASSERT_NE(final_at, std::string::npos);
  ASSERT_NE(e2, std::string::npos);
  ASSERT_NE(e1, std::string::npos);
  EXPECT_LT(final_at, e2);
  EXPECT_LT(e2, e1);
  EXPECT_NE(html.find("&quot;architecture&quot;: &quot;standard_cnn&quot;"), std::string::npos);
  EXPECT_NE(html.find("checkpoints/latest.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace sngan::testing
