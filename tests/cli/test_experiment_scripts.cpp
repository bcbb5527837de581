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

}  // namespace
}  // namespace sngan::testing
