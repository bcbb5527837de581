#include "app/train_command.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/progress.h"
#include "app/run_setup.h"
#include "core/gan/checkpoint.h"
#include "core/io/atomic_file.h"
#include "core/io/image_io.h"
#include "core/io/plot.h"
#include "data/loader.h"

namespace sngan {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---- clean stops: the first SIGINT/SIGTERM asks the loop to stop after the current step;
// a second SIGINT exits at once.
std::atomic<int> g_stop_signals{0};

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signals.fetch_add(1) >= 1 && sig == SIGINT) {
    const char msg[] = "\nsngan: second interrupt, exiting now without a checkpoint\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(130);
  }
}

void install_stop_handlers() {
  g_stop_signals = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string numbered(const char* prefix, int64_t n, const char* suffix, int width = 7) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%0*ld%s", prefix, width, static_cast<long>(n), suffix);
  return buf;
}

void make_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  SNGAN_CHECK(!ec, "cannot create directory ", dir.string(), ": ", ec.message());
  SNGAN_CHECK(access(dir.c_str(), W_OK) == 0, "directory ", dir.string(),
              " is not writable (expected a directory this user can write to)");
}

struct LossHistory {
  std::vector<double> step, loss_d, loss_g;
};

// Keeps log.jsonl lines with step <= last_step (a resumed run rewrites what came after its
// checkpoint) and returns them as loss history.
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

// The run's checkpoints, newest first: latest, then step_* by decreasing step.
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

// The newest checkpoint that loads; a damaged one is reported and skipped.
std::string resume_from_latest(const std::vector<fs::path>& candidates, const fs::path& ckpt_dir,
                               Trainer& trainer, Loader* loader) {
  for (const auto& path : candidates) {
    try {
      auto md = load_checkpoint(path.string(), trainer);
      if (loader) {
        auto it = md.find("loader.position");
        SNGAN_CHECK(it != md.end(), path.string(), ": expected metadata 'loader.position'");
        loader->restore(LoaderPosition::parse(it->second));
      }
      return path.string();
    } catch (const Error& e) {
      spdlog::warn("skipping checkpoint: {}", e.what());
    }
  }
  throw Error(detail::concat("--resume: no usable checkpoint in ", ckpt_dir.string(),
                             " (every candidate was refused, see the warnings above)"));
}

// Temporary files of atomic writes ("<name>.tmp.<pid>") left by a writer that was killed
// before its rename. A run directory has one writer, so any such file is stale.
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

// Holds an exclusive lock on a run directory for the life of the process: two trainers
// writing one directory would overwrite each other's checkpoints and logs.
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

void write_toy_samples(const std::string& path, const Tensor& pts) {
  std::string csv = "x,y\n";
  char buf[64];
  for (int64_t i = 0; i < pts.dim(0); ++i) {
    std::snprintf(buf, sizeof buf, "%.6g,%.6g\n", pts[2 * i], pts[2 * i + 1]);
    csv += buf;
  }
  write_file_atomic(path, csv);
}

}  // namespace

int run_train(const TrainOptions& opt) {
  // ---- configuration and run directory ----
  std::string config_path = opt.config_path;
  fs::path out = opt.out_dir;
  if (config_path.empty()) {
    SNGAN_CHECK(opt.resume && !out.empty(),
                "expected --config FILE (or --resume with --out DIR holding a run)");
    config_path = (out / "config.json").string();
  }
  if (out.empty()) out = fs::path("runs") / fs::path(config_path).stem();
  RunConfig cfg = load_run_config(config_path, opt.overrides);
  const int threads = set_threads(cfg.threads);

  if (opt.dry_run) {
    std::cout << cfg.resolved.dump(2) << "\n";
    ModelCost cost = measure_model_cost(cfg);
    std::printf("generator:     %ld parameters, %.1fM multiply-adds per image (forward)\n",
                static_cast<long>(cost.g_params), cost.g_macs_per_image / 1e6);
    std::printf("discriminator: %ld parameters, %.1fM multiply-adds per image (forward)\n",
                static_cast<long>(cost.d_params), cost.d_macs_per_image / 1e6);
    std::printf("one generator iteration (n_dis %ld, batch %ld, G batch %ld): %.1f GFLOP\n",
                static_cast<long>(cfg.train.n_dis), static_cast<long>(cfg.train.batch_size),
                static_cast<long>(cfg.train.g_batch_size), cost.flop_per_iteration / 1e9);
    return 0;
  }

  const fs::path config_file = out / "config.json", ckpt_dir = out / "checkpoints",
                 sample_dir = out / "samples", log_file = out / "log.jsonl";
  const bool has_run = fs::exists(config_file);
  SNGAN_CHECK(opt.resume || !has_run, "run directory ", out.string(), " already holds a run (",
              config_file.string(), "); pass --resume to continue it, or choose another --out");
  const std::vector<fs::path> checkpoints = checkpoint_candidates(ckpt_dir);
  SNGAN_CHECK(has_run || checkpoints.empty(), "run directory ", out.string(),
              " holds checkpoints but no ", config_file.string(),
              " (expected both; restore config.json, or choose another --out)");
  json saved_resolved;
  if (has_run) {
    // A resumed run keeps its settings (--config and --set included); only its length and
    // its thread count (which does not change the results) may differ.
    saved_resolved = load_run_config(config_file.string(), {}).resolved;
    json saved = saved_resolved, now = cfg.resolved;
    for (json* c : {&saved, &now}) {
      (*c)["train"].erase("iterations");
      c->erase("threads");
    }
    if (saved != now) {
      std::string differs;
      for (const auto& change : json::diff(saved, now))
        differs += (differs.empty() ? "" : ", ") + change["path"].get<std::string>();
      throw Error(detail::concat("--resume: the config differs from the run's ", config_file.string(),
                                 " at ", differs, " (only train.iterations and threads may change on resume)"));
    }
  }

  // Build everything that can fail on bad input before writing anything.
  Trainer trainer(cfg.train, cfg.generator, cfg.discriminator);
  std::unique_ptr<Loader> loader;
  {
    std::shared_ptr<const Dataset> dataset = open_dataset(cfg.data);
    loader = std::make_unique<Loader>(dataset, cfg.loader, cfg.preprocess);
  }
  make_dir(out);
  RunDirectoryLock lock(out);
  make_dir(ckpt_dir);
  remove_stale_temp_files({out, ckpt_dir, sample_dir});
  if (is_image_data(cfg)) make_dir(sample_dir);

  LossHistory history;
  if (!checkpoints.empty()) {
    const std::string from = resume_from_latest(checkpoints, ckpt_dir, trainer, loader.get());
    history = trim_log(log_file, trainer.iteration());
    spdlog::info("resumed from {} at iteration {} ({})", from, trainer.iteration(),
                 loader->position().str());
  } else {
    if (has_run)
      spdlog::warn("--resume: {} holds no checkpoint yet (the run stopped before its first one); "
                   "starting it again from iteration 0", ckpt_dir.string());
    else if (opt.resume)
      spdlog::warn("--resume: {} holds no run yet; starting a new one", out.string());
    if (fs::exists(log_file)) fs::remove(log_file);
  }
  // Written once the resume has succeeded, so a refused resume leaves the run's config as it was.
  if (saved_resolved != cfg.resolved) write_file_atomic(config_file.string(), cfg.resolved.dump(2) + "\n");
  spdlog::info("training {} on {} ({} threads): {} generator iterations, {} batches per epoch; run directory {}",
               to_string(cfg.generator.architecture), cfg.data.format, threads, cfg.train.iterations,
               loader->batches_per_epoch(), out.string());

  // Fixed z for the per-epoch grids: derived from the seed, the same across resumes.
  Rng grid_rng(cfg.seed ^ 0x5eed5eedULL);
  const Tensor grid_z = trainer.generator().sample_z(grid_rng, cfg.output.sample_count);
  const bool use_ema = cfg.output.sample_ema && trainer.ema_generator() != nullptr;

  auto checkpoint_metadata = [&] {
    return std::map<std::string, std::string>{{"config", cfg.resolved.dump()},
                                              {"loader.position", loader->position().str()},
                                              {"sngan_version", SNGAN_VERSION}};
  };
  auto save_latest = [&] {
    save_checkpoint((ckpt_dir / "latest.safetensors").string(), trainer, checkpoint_metadata());
  };
  auto end_of_epoch = [&](int64_t epoch) {
    Tensor samples = trainer.sample(grid_z, use_ema);
    if (is_image_data(cfg))
      write_image_grid((sample_dir / numbered("epoch_", epoch, ".png", 4)).string(), samples);
    else
      write_toy_samples((out / numbered("samples_epoch_", epoch, ".csv", 4)).string(), samples);
    write_line_plot((out / "loss.png").string(),
                    {{"loss_d", history.step, history.loss_d, std::nullopt},
                     {"loss_g", history.step, history.loss_g, std::nullopt}},
                    "generator iteration", "sngan losses");
    save_latest();
  };

  std::ofstream log(log_file, std::ios::app);
  SNGAN_CHECK(log, "cannot open ", log_file.string(), " for appending");
  install_stop_handlers();
  Progress progress("train", cfg.train.iterations, trainer.iteration());
  auto interval_start = std::chrono::steady_clock::now();
  int64_t interval_iters = 0;
  const int64_t images_per_iter = cfg.train.n_dis * cfg.train.batch_size;

  while (trainer.iteration() < cfg.train.iterations) {
    const int64_t epoch_before = loader->position().epoch;
    StepStats s;
    try {
      s = trainer.step([&] { return loader->next(); });
    } catch (const DivergenceError& e) {
      progress.finish();
      throw Error(detail::concat(e.what(), "; the last good checkpoint in ", ckpt_dir.string(),
                                 " is kept; lower the learning rate or change the setting"));
    }
    ++interval_iters;
    if (s.iteration % cfg.output.log_every == 0 || s.iteration == cfg.train.iterations) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - interval_start).count();
      json line = {{"step", s.iteration}, {"epoch", loader->position().epoch},
                   {"loss_d", s.loss_d}, {"loss_g", s.loss_g},
                   {"d_real", s.d_real}, {"d_fake", s.d_fake},
                   {"lr_g", s.lr_g}, {"lr_d", s.lr_d},
                   {"sec_per_iter", secs / static_cast<double>(interval_iters)},
                   {"images_per_sec", static_cast<double>(images_per_iter * interval_iters) / secs}};
      json sig = json::object();
      for (auto& [name, v] : s.sigmas) sig[name] = v;
      line["sigma"] = sig;
      log << line.dump() << "\n";
      log.flush();
      SNGAN_CHECK(log, "cannot write to ", log_file.string(),
                  " (disk full?); the last checkpoint in ", ckpt_dir.string(), " is kept");
      history.step.push_back(static_cast<double>(s.iteration));
      history.loss_d.push_back(s.loss_d);
      history.loss_g.push_back(s.loss_g);
      interval_start = std::chrono::steady_clock::now();
      interval_iters = 0;
    }
    char extra[96];
    std::snprintf(extra, sizeof extra, "loss_d %.3f loss_g %.3f", s.loss_d, s.loss_g);
    progress.update(s.iteration, extra);

    // The numbered checkpoint goes first: a kill between the two writes then never leaves
    // latest ahead of a missing step_N.
    const bool numbered_due = cfg.output.checkpoint_every > 0 && s.iteration % cfg.output.checkpoint_every == 0;
    if (numbered_due)
      save_checkpoint((ckpt_dir / numbered("step_", s.iteration, ".safetensors")).string(), trainer,
                      checkpoint_metadata());
    if (loader->position().epoch > epoch_before)
      end_of_epoch(loader->position().epoch);  // writes latest
    else if (numbered_due)
      save_latest();
    if (g_stop_signals > 0) {
      progress.finish();
      save_latest();
      std::fprintf(stderr,
                   "sngan: stopped at iteration %ld; checkpoint written. Resume with:\n"
                   "  sngan train --resume --out %s\n",
                   static_cast<long>(s.iteration), out.c_str());
      return 0;
    }
  }
  progress.finish();
  Tensor samples = trainer.sample(grid_z, use_ema);
  if (is_image_data(cfg)) write_image_grid((sample_dir / "final.png").string(), samples);
  else write_toy_samples((out / "samples_final.csv").string(), samples);
  write_line_plot((out / "loss.png").string(),
                  {{"loss_d", history.step, history.loss_d, std::nullopt},
                   {"loss_g", history.step, history.loss_g, std::nullopt}},
                  "generator iteration", "sngan losses");
  save_latest();
  spdlog::info("done: {} iterations. Samples: {}, losses: {}, log: {}, checkpoint: {}",
               trainer.iteration(),
               is_image_data(cfg) ? (sample_dir / "final.png").string() : (out / "samples_final.csv").string(),
               (out / "loss.png").string(), log_file.string(), (ckpt_dir / "latest.safetensors").string());
  return 0;
}

}  // namespace sngan
