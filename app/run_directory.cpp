#include "app/run_directory.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "app/run_setup.h"
#include "core/gan/checkpoint.h"
#include "core/io/atomic_file.h"

namespace sngan {

namespace fs = std::filesystem;
using nlohmann::json;

// Holds an exclusive lock on a run directory for its life: two trainers writing one
// directory would overwrite each other's checkpoints and logs.
class RunDirectoryLock {
 public:
  explicit RunDirectoryLock(const fs::path& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    SNGAN_CHECK(fd_ >= 0, "cannot open run directory ", dir.string(), ": ", std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      SNGAN_CHECK(err != EWOULDBLOCK, "run directory ", dir.string(),
                  " is in use by another sngan process (expected one trainer per run directory)");
      throw Error(detail::concat("cannot lock run directory ", dir.string(), ": ", std::strerror(err)));
    }
  }
  ~RunDirectoryLock() { ::close(fd_); }
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

void make_writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  SNGAN_CHECK(!ec, "cannot create directory ", dir.string(), ": ", ec.message());
  SNGAN_CHECK(access(dir.c_str(), W_OK) == 0, "directory ", dir.string(),
              " is not writable (expected a directory this user can write to)");
}

LossHistory trim_log(const fs::path& log_path, int64_t last_step) {
  LossHistory h;
  std::ifstream in(log_path);
  if (!in) return h;
  std::string kept, line;
  while (std::getline(in, line)) {
    json j;
    try {
      j = json::parse(line);
    } catch (...) {
      continue;  // a line cut by a crash
    }
    if (!j.contains("step") || j["step"].get<int64_t>() > last_step) continue;
    kept += line + "\n";
    h.step.push_back(j["step"].get<double>());
    h.loss_d.push_back(j.value("loss_d", NAN));
    h.loss_g.push_back(j.value("loss_g", NAN));
  }
  write_file_atomic(log_path.string(), kept);
  return h;
}

std::vector<fs::path> checkpoint_candidates(const fs::path& ckpt_dir) {
  std::vector<fs::path> candidates;
  if (fs::exists(ckpt_dir / "latest.safetensors")) candidates.push_back(ckpt_dir / "latest.safetensors");
  std::vector<fs::path> numbered_files;
  if (fs::is_directory(ckpt_dir))
    for (auto& e : fs::directory_iterator(ckpt_dir))
      if (e.path().filename().string().rfind("step_", 0) == 0 && e.path().extension() == ".safetensors")
        numbered_files.push_back(e.path());
  std::sort(numbered_files.begin(), numbered_files.end(), [](const fs::path& a, const fs::path& b) {
    const std::string x = a.filename().string(), y = b.filename().string();
    return x.size() != y.size() ? x.size() > y.size() : x > y;  // numerically, newest first
  });
  candidates.insert(candidates.end(), numbered_files.begin(), numbered_files.end());
  return candidates;
}

void remove_stale_temp_files(const std::vector<fs::path>& dirs) {
  for (const auto& dir : dirs) {
    if (!fs::is_directory(dir)) continue;
    for (auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string().find(".tmp.") != std::string::npos) {
        spdlog::warn("removing {} (left by an interrupted write)", e.path().string());
        std::error_code ec;
        fs::remove(e.path(), ec);
      }
  }
}

namespace {
// Throws unless the two resolved configs agree on everything that changes the results.
void check_same_run(const json& saved_resolved, const json& resolved, const fs::path& config_file) {
  json saved = saved_resolved, now = resolved;
  for (json* c : {&saved, &now}) {
    (*c)["train"].erase("iterations");
    c->erase("threads");
  }
  if (saved == now) return;
  std::string differs;
  for (const auto& change : json::diff(saved, now))
    differs += (differs.empty() ? "" : ", ") + change["path"].get<std::string>();
  throw Error(detail::concat("--resume: the config differs from the run's ", config_file.string(), " at ",
                             differs, " (only train.iterations and threads may change on resume)"));
}
}  // namespace

RunDirectory::RunDirectory(fs::path root, const json& resolved, bool resume)
    : root_(std::move(root)), resolved_(resolved), resume_(resume) {
  has_run_ = fs::exists(config_file());
  SNGAN_CHECK(resume_ || !has_run_, "run directory ", root_.string(), " already holds a run (",
              config_file().string(), "); pass --resume to continue it, or choose another --out");
  checkpoints_ = checkpoint_candidates(checkpoint_dir());
  SNGAN_CHECK(has_run_ || checkpoints_.empty(), "run directory ", root_.string(), " holds checkpoints but no ",
              config_file().string(), " (expected both; restore config.json, or choose another --out)");
  if (has_run_) {
    saved_resolved_ = load_run_config(config_file().string(), {}).resolved;
    check_same_run(saved_resolved_, resolved_, config_file());
  }
}

RunDirectory::~RunDirectory() = default;

void RunDirectory::open(bool with_samples) {
  make_writable_dir(root_);
  lock_ = std::make_unique<RunDirectoryLock>(root_);
  make_writable_dir(checkpoint_dir());
  remove_stale_temp_files({root_, checkpoint_dir(), sample_dir()});
  if (with_samples) make_writable_dir(sample_dir());
}

LossHistory RunDirectory::restore(Trainer& trainer, Loader& loader) {
  LossHistory history;
  if (!checkpoints_.empty()) {
    std::string from;
    for (const auto& path : checkpoints_) {
      try {
        auto md = load_checkpoint(path.string(), trainer);
        auto it = md.find("loader.position");
        SNGAN_CHECK(it != md.end(), path.string(), ": expected metadata 'loader.position'");
        loader.restore(LoaderPosition::parse(it->second));
        from = path.string();
        break;
      } catch (const Error& e) {
        spdlog::warn("skipping checkpoint: {}", e.what());
      }
    }
    SNGAN_CHECK(!from.empty(), "--resume: no usable checkpoint in ", checkpoint_dir().string(),
                " (every candidate was refused, see the warnings above)");
    history = trim_log(log_file(), trainer.iteration());
    spdlog::info("resumed from {} at iteration {} ({})", from, trainer.iteration(), loader.position().str());
  } else {
    if (has_run_)
      spdlog::warn("--resume: {} holds no checkpoint yet (the run stopped before its first one); "
                   "starting it again from iteration 0", checkpoint_dir().string());
    else if (resume_)
      spdlog::warn("--resume: {} holds no run yet; starting a new one", root_.string());
    if (fs::exists(log_file())) fs::remove(log_file());
  }
  // Written once the resume has succeeded, so a refused resume leaves the run's config as it was.
  if (saved_resolved_ != resolved_) write_file_atomic(config_file().string(), resolved_.dump(2) + "\n");
  return history;
}

}  // namespace sngan
