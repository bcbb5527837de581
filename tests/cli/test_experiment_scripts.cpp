// The experiment scripts (scripts/experiments/) at their cheapest: dry runs list the paper's
// runs and protocol (Miyato et al. 2018, Sec. 4, Figures 1-3 and 9-11, Table 2), and
// `sngan plot` turns a CSV like theirs into a PNG of the asked size.
#include <opencv2/imgcodecs.hpp>

#include <regex>

#include "tests/cli/cli_util.h"

namespace sngan::testing {
namespace {

RunResult run_script(const std::string& script, const std::string& args) {
  return run_command(std::string("SNGAN=") + SNGAN_BINARY + " bash " + SNGAN_SOURCE_DIR + "/scripts/experiments/" +
                     script + " " + args);
}

size_t count(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

TEST(ExperimentScripts, PaperScaleDryRunsListThePapersRuns) {
  TempDir dir;
  const std::string out = " --out " + (dir.path() / "r").string();
  RunResult s = run_script("settings.sh", "--scale paper --dataset cifar10 --dry-run" + out);
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_EQ(count(s.output, "100000 G updates"), 48u) << s.output;  // 8 methods x settings A-F
  EXPECT_EQ(count(s.output, "train\\.setting=F"), 8u);
  EXPECT_NE(s.output.find("IS over 10 x 5000"), std::string::npos);
  EXPECT_NE(s.output.find("FID of 5000 generated vs 10000 real"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "r")) << "a dry run must create nothing";

  RunResult t = run_script("timing.sh", "--scale paper --dry-run" + out);
  ASSERT_EQ(t.exit_code, 0) << t.output;
  for (const char* c : {"bench_cnn_a_none.json", "bench_cnn_a_weight_norm.json", "bench_cnn_a.json",
                        "bench_cnn_a_wgan_gp.json"})
    EXPECT_NE(t.output.find(c), std::string::npos) << c;

  RunResult n = run_script("ndis.sh", "--scale paper --dry-run" + out);
  ASSERT_EQ(n.exit_code, 0) << n.output;
  EXPECT_EQ(count(n.output, "10000 G updates"), 10u) << n.output;  // n_dis 1, 2, 5, 10, 20 for SN and WN
  EXPECT_EQ(count(n.output, "train\\.n_dis=20"), 2u);

  RunResult bad = run_script("spectra.sh", "--scale huge --dry-run");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--scale"), std::string::npos) << bad.output;
}

TEST(ExperimentScripts, PlotDrawsTheCsvOfAScript) {
  TempDir dir;
  write_file(dir.path() / "timing.csv",
             "method,index,sec_per_100_updates\nnone,1,40.5\nWN,2,44.0\nSN,3,49.1\nWGAN-GP,4,120.3\n");
  const std::string png = (dir.path() / "timing.png").string();
  RunResult r = run_sngan("plot --csv " + (dir.path() / "timing.csv").string() +
                          " --x index --y sec_per_100_updates --group method --points --title t --ylabel s"
                          " --width 700 --height 420 --out " + png);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat img = cv::imread(png, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 700);
  EXPECT_EQ(img.rows, 420);
  // The same CSV as bars, one category per method; bars refuse log axes.
  r = run_sngan("plot --csv " + (dir.path() / "timing.csv").string() + " --x method --y sec_per_100_updates --bars --out " +
                png);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 categories x 1 series"), std::string::npos) << r.output;
  EXPECT_EQ(cv::imread(png).size(), cv::Size(800, 500));
  r = run_sngan("plot --csv " + (dir.path() / "timing.csv").string() + " --x method --y index --bars --logx --out " + png);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--bars"), std::string::npos) << r.output;
  RunResult missing = run_sngan("plot --csv " + (dir.path() / "timing.csv").string() + " --x index --y nope --out " + png);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("nope"), std::string::npos) << missing.output;
}

// compare.sh's PyTorch baseline takes the OpenBLAS core type of this CPU's instruction sets, not
// one the environment presets (a machine may preset a weaker one), unless
// TORCH_OPENBLAS_CORETYPE asks for another; a dry run shows the commands and runs nothing.
TEST(BenchScripts, CompareGivesPyTorchTheCpusOpenBlasCoreType) {
  const std::string cpuinfo = read_file("/proc/cpuinfo");
  const auto has_flag = [&](const std::string& f) { return std::regex_search(cpuinfo, std::regex("\\b" + f + "\\b")); };
  const std::string cpu_type = has_flag("avx512f") ? "SkylakeX" : has_flag("avx2") ? "Haswell" : "";
  TempDir dir;
  const std::string base = "DRY_RUN=1 ROUNDS=2 CASES='cnn_c cnn_a' STOCK_CASES= LOG_DIR=" +
                           (dir.path() / "logs").string() + " TORCH_BLAS_DIR=" + (dir.path() / "blas").string() +
                           " PYTHON=" + (dir.path() / "no-python").string() + " OPENBLAS_CORETYPE=Prescott ";
  const std::string script = std::string(" bash ") + SNGAN_SOURCE_DIR + "/scripts/bench/compare.sh";

  RunResult r = run_command(base + script);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto occurrences = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = r.output.find(what); at != std::string::npos; at = r.output.find(what, at + 1)) ++n;
    return n;
  };
  // Every torch run (two per case and round where the CPU has bf16, else one): the inherited
  // value removed, then this CPU's set.
  const std::string torch_env = "env -u OPENBLAS_CORETYPE LD_LIBRARY_PATH=" + (dir.path() / "blas").string() +
                                (cpu_type.empty() ? std::string() : " OPENBLAS_CORETYPE=" + cpu_type) + " GLIBC_TUNABLES=";
  EXPECT_GE(occurrences("torch_reference.py"), 4u) << r.output;
  EXPECT_EQ(occurrences(torch_env), occurrences("torch_reference.py")) << r.output;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("torch_reference.py") != std::string::npos) {
      EXPECT_EQ(line.find("Prescott"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(occurrences("the environment's OPENBLAS_CORETYPE=Prescott is not used"), 1u) << r.output;
  EXPECT_EQ(occurrences("sngan bench --config configs/bench_cnn_a.json"),
            occurrences("sngan bench --config configs/bench_cnn_c.json"));
  EXPECT_GE(occurrences("sngan bench --config configs/bench_cnn_a.json"), 2u) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "logs")) << "a dry run must create nothing";
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "blas"));

  RunResult chosen = run_command("TORCH_OPENBLAS_CORETYPE=Zen " + base + script);
  ASSERT_EQ(chosen.exit_code, 0) << chosen.output;
  EXPECT_NE(chosen.output.find(" OPENBLAS_CORETYPE=Zen GLIBC_TUNABLES="), std::string::npos) << chosen.output;

  RunResult bad = run_command(base + "CASES=cnn_b" + script);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("unknown case 'cnn_b'"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace sngan::testing
