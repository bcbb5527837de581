// Inputs found by the libFuzzer targets in tests/fuzz/ (scripts/fuzz.sh) that reach the CLI,
// kept as regression tests: each must get one clear error (exit 1), never "internal error".
#include "core/io/safetensors.h"
#include "tests/cli/cli_util.h"

namespace sngan::testing {
namespace {

namespace fs = std::filesystem;

// fuzz_config: a number too large for a double ("seed": 51e308) made nlohmann::json throw
// out_of_range, which load_json_file, --set and the stored config of `sngan sample` did not
// catch (they caught parse_error only): "sngan: internal error: [json.exception.out_of_range.406]
// number overflow parsing '51e308'", exit 2.
TEST(CliFuzzRegressions, NumberOverflowInAConfigIsAClearError) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "data");
  write_tiny_idx(tmp.path() / "data", 16);
  const fs::path cfg = tmp.path() / "tiny.json", big = tmp.path() / "big.json";
  write_file(cfg, tiny_config(tmp.path() / "data", 4));
  write_file(big, "{\"seed\": 51e308}");

  RunResult r = run_sngan("train --config " + big.string() + " --out " + (tmp.path() / "a").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(big.string() + ": not valid JSON"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("number overflow"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;

  // --set with such a number: taken as a string, then refused by the schema.
  r = run_sngan("train --config " + cfg.string() + " --set train.lr_d=1e999 --out " + (tmp.path() / "b").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("train.lr_d: expected a number, got a string"), std::string::npos) << r.output;

  // A checkpoint whose stored config holds such a number.
  const fs::path run = tmp.path() / "run";
  ASSERT_EQ(run_sngan("train --config " + cfg.string() + " --out " + run.string()).exit_code, 0);
  TensorFile file = read_safetensors((run / "checkpoints" / "latest.safetensors").string());
  file.metadata["config"] = "{\"seed\": 1e400}";
  const fs::path ckpt = tmp.path() / "overflow.safetensors";
  write_safetensors(ckpt.string(), file);
  r = run_sngan("sample --checkpoint " + ckpt.string() + " --out " + (tmp.path() / "s").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the stored config is not valid JSON"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}

// fuzz_config: a --set value that is neither JSON nor UTF-8 ("train.n_dis=3\xff...") became a
// string the schema refused, and dumping it into the error message threw nlohmann's
// type_error 316 (invalid UTF-8): "sngan: internal error", exit 2.
TEST(CliFuzzRegressions, SetValueThatIsNotUtf8IsAClearError) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "data");
  write_tiny_idx(tmp.path() / "data", 16);
  const fs::path cfg = tmp.path() / "tiny.json";
  write_file(cfg, tiny_config(tmp.path() / "data", 4));
  for (const char* set : {"train.n_dis=3\xff\xff", "data.path=\xfe", "train.\xc3=1"}) {
    RunResult r = run_sngan("train --config " + cfg.string() + " --set '" + set + "' --out " +
                            (tmp.path() / "a").string());
    EXPECT_EQ(r.exit_code, 1) << set << "\n" << r.output;
    EXPECT_NE(r.output.find("expected UTF-8 text"), std::string::npos) << set << "\n" << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "a"));
}

}  // namespace
}  // namespace sngan::testing
