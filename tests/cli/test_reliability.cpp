// Reliability of `sngan train` end to end: SIGKILL at random moments, clean stops on
// SIGINT/SIGTERM, damaged / truncated / foreign checkpoints, a full disk, and divergence.
// Every interrupted run, once resumed to the end, must equal an uninterrupted run bit for bit
// (training is deterministic at a fixed thread count; the CLI runs with OMP_NUM_THREADS=1).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "core/io/safetensors.h"
#include "tests/cli/cli_util.h"

extern char** environ;

namespace sngan::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- child processes (posix_spawn, so that the test can signal the sngan process itself) ----

struct Child {
  pid_t pid = -1;
  fs::path log;  // stdout and stderr
};

Child spawn_sngan(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv_s{SNGAN_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s{"OMP_NUM_THREADS=1"};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("OMP_NUM_THREADS=", 0) != 0) env_s.push_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  Child c;
  c.log = log;
  const int rc = posix_spawn(&c.pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    c.pid = -1;
  }
  return c;
}

// Waits for the child: its exit code, or 128 + signal when a signal ended it.
int wait_child(const Child& c) {
  int status = 0;
  while (waitpid(c.pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Polls until pred() holds or the child exits or `limit` passes; true when pred() held.
template <typename Pred>
bool wait_until(const Child& c, Pred pred, std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    int status = 0;
    if (waitpid(c.pid, &status, WNOHANG) == c.pid) {
      // Exited: report the predicate once more, but the caller can no longer wait on it.
      ADD_FAILURE() << "sngan exited before the expected moment:\n" << read_file(c.log);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// ---- run directories ----

// Every file under dir whose name holds ".tmp." (write_file_atomic's temporary files).
std::vector<fs::path> temp_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path());
  return out;
}

std::string list(const std::vector<fs::path>& paths) {
  std::string s;
  for (auto& p : paths) s += "  " + p.string() + "\n";
  return s;
}

// Number of log.jsonl lines (logged steps) so far.
int log_lines(const fs::path& run) {
  std::istringstream in(read_file(run / "log.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

// The loss sequence of a log (timing fields differ between runs).
std::string losses(const fs::path& log) {
  std::istringstream in(read_file(log));
  std::string line, out;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    out += j["step"].dump() + ":" + j["loss_d"].dump() + "," + j["loss_g"].dump() + ";";
  }
  return out;
}

bool has_checkpoint(const fs::path& run) {
  if (!fs::is_directory(run / "checkpoints")) return false;
  for (auto& e : fs::directory_iterator(run / "checkpoints"))
    if (e.path().extension() == ".safetensors") return true;
  return false;
}

void flip_byte(const fs::path& file, std::streamoff offset_from_end) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-offset_from_end, std::ios::end);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(-offset_from_end, std::ios::end);
  f.write(&c, 1);
}

class Reliability : public ::testing::Test {
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
  // An uninterrupted run of `iterations` into dir; returns its wall time in seconds.
  double reference_run(const fs::path& dir, int iterations) {
    const auto t0 = Clock::now();
    RunResult r = run_sngan("train --config " + config(iterations).string() + " --out " + dir.string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }
  // `sngan sample` from the checkpoint succeeds (the file loads into the model it names).
  void expect_loads(const fs::path& ckpt) {
    RunResult r = run_sngan("sample --checkpoint " + ckpt.string() + " --n 2 --grid-only --out " +
                            (tmp_.path() / "sample_check").string());
    EXPECT_EQ(r.exit_code, 0) << ckpt << "\n" << r.output;
  }
  // The final checkpoints of run equal those of the reference, byte for byte.
  void expect_same_checkpoints(const fs::path& run, const fs::path& ref) {
    for (auto& e : fs::directory_iterator(ref / "checkpoints")) {
      const fs::path mine = run / "checkpoints" / e.path().filename();
      ASSERT_TRUE(fs::exists(mine)) << mine;
      EXPECT_TRUE(read_file(mine) == read_file(e.path())) << mine << " differs from " << e.path();
    }
  }
  TempDir tmp_;
};

// ---- SIGKILL at random moments ----

TEST_F(Reliability, SigkillAtRandomMomentsThenResumeEqualsAnUninterruptedRun) {
  constexpr int kIterations = 80, kTrials = 6;
  const fs::path ref = tmp_.path() / "reference";
  const double duration = reference_run(ref, kIterations);
  ASSERT_TRUE(fs::exists(ref / "checkpoints" / "latest.safetensors"));
  const std::string cfg = config(kIterations).string();

  std::mt19937 rng(20240605);
  int killed_before_first_checkpoint = 0, stale_temp_files = 0, missing_numbered = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const fs::path run = tmp_.path() / ("run" + std::to_string(trial));
    std::set<std::string> killed_pids;
    auto from_killed_process = [&](const fs::path& t) {
      const std::string s = t.string();
      return killed_pids.count(s.substr(s.rfind('.') + 1)) > 0;
    };
    // Kill the run, then kill its first resume; the second resume runs to the end.
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::vector<std::string> args{"train", "--config", cfg, "--out", run.string()};
      if (attempt > 0) args.push_back("--resume");
      // The first kill of trial k lands somewhere in the k-th sixth of the run's duration;
      // the second anywhere in it.
      std::uniform_real_distribution<double> when(attempt ? 0.0 : trial * duration / kTrials,
                                                  attempt ? duration : (trial + 1) * duration / kTrials);
      const double delay = when(rng);
      Child c = spawn_sngan(args, tmp_.path() / "kill.log");
      ASSERT_GT(c.pid, 0);
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      ::kill(c.pid, SIGKILL);
      const int code = wait_child(c);
      ASSERT_TRUE(code == 128 + SIGKILL || code == 0) << "exit " << code << "\n" << read_file(c.log);
      killed_pids.insert(std::to_string(c.pid));
    }
    // What a kill may leave: temporary files of the killed processes, nothing else.
    if (fs::exists(run))
      for (const fs::path& t : temp_files(run)) {
        ++stale_temp_files;
        EXPECT_TRUE(from_killed_process(t)) << "temporary file not from a killed process: " << t;
      }

    // Killed before the first checkpoint: --resume starts the run again from iteration 0.
    if (!has_checkpoint(run)) ++killed_before_first_checkpoint;
    RunResult r = run_sngan("train --resume --config " + cfg + " --out " + run.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The final checkpoints equal the uninterrupted run's, and so does every numbered one
    // (step_N is written before latest, so a kill between the two cannot skip step_N).
    for (const char* f : {"latest.safetensors", "step_0000080.safetensors"})
      EXPECT_TRUE(read_file(run / "checkpoints" / f) == read_file(ref / "checkpoints" / f)) << f;
    for (auto& e : fs::directory_iterator(ref / "checkpoints")) {
      const fs::path mine = run / "checkpoints" / e.path().filename();
      if (!fs::exists(mine)) {
        ADD_FAILURE() << "trial " << trial << ": " << mine << " missing after the resume";
        ++missing_numbered;
        continue;
      }
      EXPECT_TRUE(read_file(mine) == read_file(e.path())) << mine << " differs from " << e.path();
    }
    EXPECT_EQ(losses(run / "log.jsonl"), losses(ref / "log.jsonl"));
    expect_loads(run / "checkpoints" / "latest.safetensors");
    // Resumes remove the temporary files of killed writers; the last process leaves none.
    EXPECT_TRUE(temp_files(run).empty()) << list(temp_files(run));
  }
  RecordProperty("killed_before_first_checkpoint", killed_before_first_checkpoint);
  RecordProperty("stale_temp_files", stale_temp_files);
  RecordProperty("missing_numbered_checkpoints", missing_numbered);
  std::printf("%d of %d kills landed before the first checkpoint; %d stale temporary files left by killed writers\n",
              killed_before_first_checkpoint, 2 * kTrials, stale_temp_files);
}

// A temporary file left by a writer that was killed (SIGKILL, power loss) between creating
// it and renaming it is removed by the next `train --resume`.
TEST_F(Reliability, ResumeRemovesTemporaryFilesOfAKilledWriter) {
  const fs::path run = tmp_.path() / "run";
  ASSERT_EQ(run_sngan("train --config " + config(8).string() + " --out " + run.string()).exit_code, 0);
  write_file(run / "checkpoints" / "latest.safetensors.tmp.999999", "half a checkpoint");
  write_file(run / "log.jsonl.tmp.999999", "{\"step\": 1");
  RunResult r = run_sngan("train --resume --config " + config(12).string() + " --out " + run.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(temp_files(run).empty()) << list(temp_files(run));
}

TEST_F(Reliability, SecondTrainerOnTheSameRunDirectoryIsRefused) {
  const fs::path run = tmp_.path() / "run";
  const std::string cfg = config(100000).string();
  Child c = spawn_sngan({"train", "--config", cfg, "--out", run.string()}, tmp_.path() / "first.log");
  ASSERT_GT(c.pid, 0);
  ASSERT_TRUE(wait_until(c, [&] { return log_lines(run) >= 1; }));
  RunResult r = run_sngan("train --resume --config " + cfg + " --out " + run.string());
  ::kill(c.pid, SIGKILL);
  wait_child(c);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("in use by another sngan process"), std::string::npos) << r.output;
  // Once the first is gone, the directory is free again.
  r = run_sngan("train --resume --config " + config(4).string() + " --out " + run.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// ---- clean stops ----

class CleanStop : public Reliability, public ::testing::WithParamInterface<int> {};

TEST_P(CleanStop, StopsAfterTheStepWritesLatestAndResumesBitForBit) {
  const int sig = GetParam();
  constexpr int kIterations = 100;
  const fs::path ref = tmp_.path() / "reference", run = tmp_.path() / "run";
  reference_run(ref, kIterations);
  const std::string cfg = config(kIterations).string();

  Child c = spawn_sngan({"train", "--config", cfg, "--out", run.string()}, tmp_.path() / "stop.log");
  ASSERT_GT(c.pid, 0);
  // Mid-run: after the first logged steps, long before the end.
  ASSERT_TRUE(wait_until(c, [&] { return log_lines(run) >= 2; }));
  ::kill(c.pid, sig);
  const int code = wait_child(c);
  const std::string out = read_file(c.log);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("Resume with"), std::string::npos) << out;
  EXPECT_NE(out.find("sngan train --resume --out " + run.string()), std::string::npos) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("stopped at iteration (\\d+)"))) << out;
  const int stopped_at = std::stoi(m[1]);
  EXPECT_GE(stopped_at, 4);
  EXPECT_LT(stopped_at, kIterations);
  const fs::path latest = run / "checkpoints" / "latest.safetensors";
  ASSERT_TRUE(fs::exists(latest));
  EXPECT_EQ(read_safetensors(latest.string()).metadata.at("iteration"), std::to_string(stopped_at));
  expect_loads(latest);
  EXPECT_TRUE(temp_files(run).empty()) << list(temp_files(run));

  RunResult r = run_sngan("train --resume --out " + run.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("at iteration " + std::to_string(stopped_at)), std::string::npos) << r.output;
  expect_same_checkpoints(run, ref);
  EXPECT_EQ(losses(run / "log.jsonl"), losses(ref / "log.jsonl"));
  EXPECT_TRUE(temp_files(run).empty()) << list(temp_files(run));
}

INSTANTIATE_TEST_SUITE_P(Signals, CleanStop, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return p.param == SIGTERM ? std::string("SIGTERM") : std::string("SIGINT");
                         });

TEST_F(Reliability, SecondSigintExitsAtOnceKeepingTheLastCheckpoint) {
  const fs::path run = tmp_.path() / "run";
  // Larger batches: a step long enough for two signals to land in it.
  Child c = spawn_sngan({"train", "--config", config(400).string(), "--out", run.string(), "--set",
                         "train.batch_size=32"},
                        tmp_.path() / "int.log");
  ASSERT_GT(c.pid, 0);
  const fs::path step4 = run / "checkpoints" / "step_0000004.safetensors";
  ASSERT_TRUE(wait_until(c, [&] { return fs::exists(step4); }));
  // Signals pending at once merge into one, so keep interrupting until the process is gone.
  int code = -1, status = 0;
  for (int i = 0; i < 20000 && code < 0; ++i) {
    ::kill(c.pid, SIGINT);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    if (waitpid(c.pid, &status, WNOHANG) == c.pid)
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string out = read_file(c.log);
  EXPECT_EQ(code, 130) << out;
  EXPECT_NE(out.find("second interrupt"), std::string::npos) << out;
  expect_loads(run / "checkpoints" / "latest.safetensors");
  RunResult r = run_sngan("train --resume --out " + run.string() + " --set train.iterations=12");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
}

// ---- damaged, truncated and foreign checkpoints ----

TEST_F(Reliability, DamagedLatestIsSkippedWithAWarningAndTheRunContinuesFromTheNumberedOne) {
  const fs::path ref = tmp_.path() / "reference", run = tmp_.path() / "run";
  reference_run(ref, 16);
  ASSERT_EQ(run_sngan("train --config " + config(12, "short.json").string() + " --out " + run.string()).exit_code, 0);
  const fs::path latest = run / "checkpoints" / "latest.safetensors";
  ASSERT_TRUE(fs::exists(run / "checkpoints" / "step_0000012.safetensors"));
  flip_byte(latest, 100);  // inside the data section (the last tensor's bytes)

  RunResult s = run_sngan("sample --checkpoint " + latest.string() + " --out " + (tmp_.path() / "s").string());
  EXPECT_EQ(s.exit_code, 1) << s.output;
  EXPECT_NE(s.output.find("damaged"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find(latest.string()), std::string::npos) << s.output;

  RunResult r = run_sngan("train --resume --config " + config(12, "short.json").string() + " --out " +
                          run.string() + " --set train.iterations=16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("skipping checkpoint[^\n]*"))) << r.output;
  EXPECT_NE(m.str().find(latest.string()), std::string::npos) << m.str();
  EXPECT_NE(m.str().find("checksum"), std::string::npos) << m.str();
  EXPECT_NE(r.output.find("resumed from " + (run / "checkpoints" / "step_0000012.safetensors").string() +
                          " at iteration 12"),
            std::string::npos)
      << r.output;
  // What the resumed process wrote equals the uninterrupted run (the earlier numbered files
  // differ in their stored config: train.iterations 12, not 16).
  for (const char* f : {"step_0000016.safetensors", "latest.safetensors"})
    EXPECT_TRUE(read_file(run / "checkpoints" / f) == read_file(ref / "checkpoints" / f)) << f;
}

TEST_F(Reliability, EveryDamagedCheckpointSkippedThenResumeFailsClearly) {
  const fs::path run = tmp_.path() / "run";
  ASSERT_EQ(run_sngan("train --config " + config(8).string() + " --out " + run.string()).exit_code, 0);
  for (auto& e : fs::directory_iterator(run / "checkpoints")) flip_byte(e.path(), 5);
  const std::string before = read_file(run / "checkpoints" / "latest.safetensors");
  const std::string config_before = read_file(run / "config.json");
  RunResult r = run_sngan("train --resume --out " + run.string() + " --set train.iterations=12");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no usable checkpoint"), std::string::npos) << r.output;
  for (const char* f : {"latest.safetensors", "step_0000004.safetensors", "step_0000008.safetensors"})
    EXPECT_NE(r.output.find((run / "checkpoints" / f).string()), std::string::npos) << f << "\n" << r.output;
  // Refusing touches nothing, not even config.json (whose train.iterations the resume changes).
  EXPECT_EQ(read_file(run / "checkpoints" / "latest.safetensors"), before);
  EXPECT_EQ(read_file(run / "config.json"), config_before);
}

TEST_F(Reliability, ResumeRefusesChangedSettingsNamingThemAndKeepsTheConfig) {
  const fs::path run = tmp_.path() / "run";
  ASSERT_EQ(run_sngan("train --config " + config(4).string() + " --out " + run.string()).exit_code, 0);
  const std::string config_before = read_file(run / "config.json");
  const std::string latest_before = read_file(run / "checkpoints" / "latest.safetensors");
  // Through --set on the run's own config, and through another --config file.
  RunResult r = run_sngan("train --resume --out " + run.string() + " --set train.lr_g=0.001");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("config differs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/train/lr_g"), std::string::npos) << r.output;
  r = run_sngan("train --resume --config " + config(4, "other.json").string() + " --out " + run.string() +
                " --set train.batch_size=4");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("/train/batch_size"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(run / "config.json"), config_before);
  EXPECT_EQ(read_file(run / "checkpoints" / "latest.safetensors"), latest_before);
  // Only the length may change, and then config.json records it.
  r = run_sngan("train --resume --out " + run.string() + " --set train.iterations=6");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file(run / "config.json").find("\"iterations\": 6"), std::string::npos);
}

TEST_F(Reliability, CheckpointsWithoutTheirConfigAreNeverOverwritten) {
  const fs::path run = tmp_.path() / "run";
  ASSERT_EQ(run_sngan("train --config " + config(4).string() + " --out " + run.string()).exit_code, 0);
  fs::remove(run / "config.json");
  const std::string latest = read_file(run / "checkpoints" / "latest.safetensors");
  for (const char* resume : {"", " --resume"}) {
    RunResult r = run_sngan("train --config " + config(8).string() + " --out " + run.string() + resume);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("holds checkpoints but no"), std::string::npos) << r.output;
  }
  EXPECT_EQ(read_file(run / "checkpoints" / "latest.safetensors"), latest);
}

TEST_F(Reliability, ResumeBeforeTheFirstCheckpointStartsAgainAndEqualsAFreshRun) {
  const fs::path ref = tmp_.path() / "reference", run = tmp_.path() / "run";
  reference_run(ref, 4);
  // What a kill before the first checkpoint leaves: the config, a log line, no checkpoint.
  ASSERT_EQ(run_sngan("train --config " + config(4).string() + " --out " + run.string()).exit_code, 0);
  fs::remove_all(run / "checkpoints");
  RunResult r = run_sngan("train --resume --config " + config(4).string() + " --out " + run.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("starting it again from iteration 0"), std::string::npos) << r.output;
  expect_same_checkpoints(run, ref);
  EXPECT_EQ(read_file(run / "log.jsonl").size() > 0, true);
}

TEST_F(Reliability, CheckpointOfAnotherModelShapeIsRefusedNamingTheTensorAndBothShapes) {
  const fs::path a = tmp_.path() / "a", b = tmp_.path() / "b";
  ASSERT_EQ(run_sngan("train --config " + config(4).string() + " --out " + a.string()).exit_code, 0);
  const std::string wider = " --set model.generator.base_channels=32";
  const fs::path cfg_b = config(4, "wide.json");
  ASSERT_EQ(run_sngan("train --config " + cfg_b.string() + wider + " --out " + b.string()).exit_code, 0);
  const fs::path a_latest = a / "checkpoints" / "latest.safetensors";
  const std::regex shapes("tensor '(generator[^']*)' has shape (\\([^)]*\\)), this model expects (\\([^)]*\\))");

  // --resume of run B (G base 32) finding run A's checkpoint (G base 16).
  for (auto& e : fs::directory_iterator(b / "checkpoints")) fs::remove(e.path());
  fs::copy_file(a_latest, b / "checkpoints" / "latest.safetensors");
  RunResult r = run_sngan("train --resume --config " + cfg_b.string() + wider + " --out " + b.string() +
                          " --set train.iterations=8");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, shapes)) << r.output;
  EXPECT_NE(m[2].str(), m[3].str());
  EXPECT_NE(r.output.find("skipping checkpoint"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no usable checkpoint"), std::string::npos) << r.output;

  // `sngan sample` on a checkpoint whose stored config names another model than its tensors.
  TensorFile file = read_safetensors(a_latest.string());
  auto cfg = nlohmann::json::parse(file.metadata.at("config"));
  cfg["model"]["generator"]["base_channels"] = 32;
  file.metadata["config"] = cfg.dump();
  const fs::path foreign = tmp_.path() / "foreign.safetensors";
  write_safetensors(foreign.string(), file);
  RunResult s = run_sngan("sample --checkpoint " + foreign.string() + " --out " + (tmp_.path() / "s").string());
  EXPECT_EQ(s.exit_code, 1) << s.output;
  ASSERT_TRUE(std::regex_search(s.output, m, shapes)) << s.output;
  EXPECT_NE(m[2].str(), m[3].str());
  EXPECT_NE(s.output.find(foreign.string()), std::string::npos) << s.output;
}

TEST_F(Reliability, TruncatedCheckpointGetsAClearError) {
  const fs::path run = tmp_.path() / "run";
  ASSERT_EQ(run_sngan("train --config " + config(8).string() + " --out " + run.string()).exit_code, 0);
  const fs::path latest = run / "checkpoints" / "latest.safetensors";
  const std::string full = read_file(latest);
  struct Case { size_t keep; const char* expect; };
  for (const Case& c : {Case{full.size() / 2, "out of range"}, Case{full.size() - 1, "data_offsets"},
                        Case{100, "header length"}, Case{5, "at least 8 bytes"}, Case{0, "at least 8 bytes"}}) {
    const fs::path cut = tmp_.path() / ("cut_" + std::to_string(c.keep) + ".safetensors");
    write_file(cut, full.substr(0, c.keep));
    RunResult r = run_sngan("sample --checkpoint " + cut.string() + " --out " + (tmp_.path() / "s").string());
    EXPECT_EQ(r.exit_code, 1) << c.keep << "\n" << r.output;
    EXPECT_NE(r.output.find(cut.string()), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.keep << "\n" << r.output;
  }
  // A truncated latest (e.g. copied by a tool that is not atomic) is skipped on resume.
  write_file(latest, full.substr(0, full.size() / 2));
  RunResult r = run_sngan("train --resume --out " + run.string() + " --set train.iterations=12");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("skipping checkpoint"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at iteration 8"), std::string::npos) << r.output;
}

// ---- full disk ----

// A small tmpfs (needs CAP_SYS_ADMIN; skipped without it), unmounted by the destructor.
class SmallTmpfs {
 public:
  SmallTmpfs(const fs::path& where, size_t bytes) : where_(where) {
    fs::create_directories(where);
    const std::string opts = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", where.c_str(), "tmpfs", 0, opts.c_str()) == 0) mounted_ = true;
    else error_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path where_;
  bool mounted_ = false;
  std::string error_;
};

TEST_F(Reliability, FullDiskFailsNamingThePathAndKeepsThePreviousFiles) {
  const fs::path mnt = tmp_.path() / "small_disk";
  SmallTmpfs disk(mnt, 8 << 20);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << "): no full-disk test";
  const fs::path run = mnt / "run";
  ASSERT_EQ(run_sngan("train --config " + config(4).string() + " --out " + run.string()).exit_code, 0);
  const fs::path latest = run / "checkpoints" / "latest.safetensors";
  const std::string before = read_file(latest);
  const uint64_t ckpt = before.size();

  // Fill the disk so that less than half a checkpoint fits.
  const fs::space_info space = fs::space(mnt);
  ASSERT_GT(space.available, ckpt / 2);
  {
    std::ofstream fill(mnt / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    for (uint64_t left = space.available - ckpt / 2; left >= block.size(); left -= block.size())
      fill.write(block.data(), block.size());
  }
  RunResult r = run_sngan("train --resume --out " + run.string() + " --set train.iterations=12");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("sngan: error:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(run.string()), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  // Nothing damaged, nothing half-written left behind.
  EXPECT_EQ(read_file(latest), before);
  EXPECT_NO_THROW(nlohmann::json::parse(read_file(run / "config.json")));
  EXPECT_TRUE(temp_files(run).empty()) << list(temp_files(run));
  expect_loads(latest);

  // Space again: the run resumes from the kept checkpoint.
  fs::remove(mnt / "filler");
  r = run_sngan("train --resume --out " + run.string() + " --set train.iterations=12");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("at iteration 4"), std::string::npos) << r.output;
}

// ---- divergence ----

// Without spectral norm and at lr 1000, D's logits reach ~1e30 after one step: the losses
// stay finite, but the squared gradients overflow Adam's second moment (optimizer_d.v) to Inf
// in step 2. The trainer's finiteness check catches it before any checkpoint is written.
const char* kDiverging =
    " --set model.discriminator.normalization=none --set train.lr_d=1000 --set train.lr_g=1000"
    " --set output.checkpoint_every=1";

TEST_F(Reliability, DivergenceFailsAndNeverWritesANonFiniteCheckpoint) {
  const fs::path run = tmp_.path() / "run";
  RunResult r = run_sngan("train --config " + config(50).string() + " --out " + run.string() + kDiverging);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("sngan: error:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("is not finite"), std::string::npos) << r.output;
  // Every checkpoint on disk is finite and loads; latest is the last one written.
  const fs::path latest = run / "checkpoints" / "latest.safetensors";
  ASSERT_TRUE(fs::exists(latest)) << r.output;
  for (auto& e : fs::directory_iterator(run / "checkpoints")) {
    const TensorFile f = read_safetensors(e.path().string());
    for (const auto& [name, t] : f.tensors)
      for (int64_t i = 0; i < t.numel(); ++i) ASSERT_TRUE(std::isfinite(t.data()[i])) << e.path() << " " << name;
  }
  const std::string last = read_safetensors(latest.string()).metadata.at("iteration");
  EXPECT_TRUE(fs::exists(run / "checkpoints" / ("step_000000" + last + ".safetensors"))) << last;
  expect_loads(latest);
  EXPECT_TRUE(temp_files(run).empty()) << list(temp_files(run));
}

// The divergence guard stops at the first iteration whose losses, weights or optimizer state
// are not finite (an overflowing Adam v with finite losses included), naming it and the
// quantity, before any checkpoint is refused.
TEST_F(Reliability, DivergenceIsCaughtAtTheIterationItHappens) {
  const fs::path run = tmp_.path() / "run";
  RunResult r = run_sngan("train --config " + config(50).string() + " --out " + run.string() + kDiverging);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("diverged at iteration (\\d+): (\\S+) is not finite")))
      << r.output;
  // Named as in the checkpoint (optimizer_d.v.conv0.weight), or the loss.
  EXPECT_TRUE(std::regex_match(m[2].str(), std::regex("(generator|discriminator|optimizer_[gd])\\..+|loss_[dg]")))
      << m[2];
  EXPECT_EQ(r.output.find("refusing to write checkpoint"), std::string::npos) << r.output;
  const fs::path latest = run / "checkpoints" / "latest.safetensors";
  ASSERT_TRUE(fs::exists(latest)) << r.output;
  EXPECT_EQ(read_safetensors(latest.string()).metadata.at("iteration"), std::to_string(std::stoi(m[1]) - 1));
  expect_loads(latest);
}

}  // namespace
}  // namespace sngan::testing
