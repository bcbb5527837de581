// The rules of a run directory (`sngan train --out DIR`), apart from the training loop:
//   DIR/config.json       the resolved config (written once a resume has succeeded)
//   DIR/log.jsonl         one JSON line per logged step (trimmed to the checkpoint on resume)
//   DIR/checkpoints/      latest.safetensors and step_NNNNNNN.safetensors
//   DIR/samples/          per-epoch grids (image data)
// - A directory holding a run is refused unless resuming; checkpoints without config.json
//   are refused (a fresh start or a resume would write over them).
// - A resume must use the run's config: only train.iterations and threads (which does not
//   change the results) may differ; the differing keys are named.
// - One trainer per directory: an exclusive lock is held while the run is open.
// - Temporaries of interrupted atomic writes ("<name>.tmp.<pid>") are removed.
// - A resume loads the newest checkpoint that loads (latest, then step_* newest first), and a
//   damaged one is reported and skipped.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/gan/trainer.h"
#include "data/loader.h"

namespace sngan {

struct LossHistory {
  std::vector<double> step, loss_d, loss_g;
};

// The run's checkpoints, newest first: latest, then step_* by decreasing step.
std::vector<std::filesystem::path> checkpoint_candidates(const std::filesystem::path& ckpt_dir);

// Keeps the log.jsonl lines with step <= last_step (a resumed run rewrites what came after its
// checkpoint; lines cut by a crash are dropped) and returns their losses.
LossHistory trim_log(const std::filesystem::path& log_path, int64_t last_step);

// Removes temporaries of atomic writes ("<name>.tmp.<pid>") left in `dirs` by a killed writer.
void remove_stale_temp_files(const std::vector<std::filesystem::path>& dirs);

// Creates `dir` (and parents); throws unless it exists and this user can write to it.
void make_writable_dir(const std::filesystem::path& dir);

class RunDirectoryLock;

class RunDirectory {
 public:
  // Checks the directory against the run's resolved config; writes nothing. Throws
  // sngan::Error naming the directory or the differing keys.
  RunDirectory(std::filesystem::path root, const nlohmann::json& resolved, bool resume);
  ~RunDirectory();

  // Creates the directories, locks the run and removes stale temporaries.
  void open(bool with_samples);
  // Restores trainer and loader from the newest usable checkpoint and trims the log to it, or
  // starts afresh; then writes config.json when it changed. Returns the logged loss history.
  LossHistory restore(Trainer& trainer, Loader& loader);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config_file() const { return root_ / "config.json"; }
  std::filesystem::path log_file() const { return root_ / "log.jsonl"; }
  std::filesystem::path checkpoint_dir() const { return root_ / "checkpoints"; }
  std::filesystem::path sample_dir() const { return root_ / "samples"; }
  std::filesystem::path latest_checkpoint() const { return checkpoint_dir() / "latest.safetensors"; }

 private:
  std::filesystem::path root_;
  nlohmann::json resolved_, saved_resolved_;  // saved: the run's config.json, when it has one
  bool resume_, has_run_;
  std::vector<std::filesystem::path> checkpoints_;
  std::unique_ptr<RunDirectoryLock> lock_;
};

}  // namespace sngan
