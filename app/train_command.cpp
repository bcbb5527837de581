#include "app/train_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/mpi_group.h"
#include "app/progress.h"
#include "app/run_directory.h"
#include "app/run_setup.h"
#include "app/train_eval.h"
#include "core/gan/checkpoint.h"
#include "core/gan/d_method.h"
#include "core/io/image_io.h"
#include "core/tensor/cpu_info.h"
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

int print_dry_run(const RunConfig& cfg) {
  std::cout << cfg.resolved.dump(2) << "\n";
  ModelCost cost = measure_model_cost(cfg);
  std::printf("generator:     %ld parameters, %.1fM multiply-adds per image (forward)\n",
              static_cast<long>(cost.g_params), cost.g_macs_per_image / 1e6);
  std::printf("discriminator: %ld parameters, %.1fM multiply-adds per image (forward)\n",
              static_cast<long>(cost.d_params), cost.d_macs_per_image / 1e6);
  std::printf("discriminator method: %s\n", describe_d_method(cfg.train, cfg.discriminator).c_str());
  std::printf("one generator iteration (n_dis %ld, batch %ld, G batch %ld): %.1f GFLOP\n",
              static_cast<long>(cfg.train.n_dis), static_cast<long>(cfg.train.batch_size),
              static_cast<long>(cfg.train.g_batch_size), cost.flop_per_iteration / 1e9);
  return 0;
}

// log.jsonl: one line per logged step, and everything logged so far (for the curves).
class RunLog {
 public:
  RunLog(const fs::path& path, RunHistory history, int64_t images_per_iteration)
      : path_(path), out_(path, std::ios::app), history_(std::move(history)),
        images_per_iteration_(images_per_iteration), interval_start_(Clock::now()) {
    SNGAN_CHECK(out_, "cannot open ", path.string(), " for appending");
  }
  void count_iteration() { ++interval_iterations_; }
  // Writes the line of step s (rates over the iterations since the last line).
  void write(const StepStats& s, int64_t epoch, const fs::path& checkpoint_dir) {
    const double secs = std::chrono::duration<double>(Clock::now() - interval_start_).count();
    const double iters = static_cast<double>(interval_iterations_);
    json line = {{"step", s.iteration}, {"epoch", epoch}, {"loss_d", s.loss_d}, {"loss_g", s.loss_g},
                 {"d_real", s.d_real}, {"d_fake", s.d_fake}, {"lr_g", s.lr_g}, {"lr_d", s.lr_d},
                 {"sec_per_iter", secs / iters},
                 {"images_per_sec", static_cast<double>(images_per_iteration_) * iters / secs}};
    json sigma = json::object();
    for (auto& [name, v] : s.sigmas) sigma[name] = v;
    line["sigma"] = sigma;
    append(line, checkpoint_dir);
    interval_start_ = Clock::now();
    interval_iterations_ = 0;
  }
  // Writes one line (a training step's, or an evaluation's) and adds it to the history.
  void append(const json& line, const fs::path& checkpoint_dir) {
    out_ << line.dump() << "\n";
    out_.flush();
    SNGAN_CHECK(out_, "cannot write to ", path_.string(), " (disk full?); the last checkpoint in ",
                checkpoint_dir.string(), " is kept");
    history_.add(line);
  }
  const RunHistory& history() const { return history_; }
  // Leaves out of the training rates the time spent in `f` (e.g. an evaluation).
  template <typename F>
  void untimed(F&& f) {
    const auto start = Clock::now();
    f();
    interval_start_ += Clock::now() - start;
  }

 private:
  using Clock = std::chrono::steady_clock;
  fs::path path_;
  std::ofstream out_;
  RunHistory history_;
  int64_t images_per_iteration_, interval_iterations_ = 0;
  Clock::time_point interval_start_;
};

// Everything a run writes besides its log: samples of a fixed z (a grid, or a CSV for the toy
// sets), the curves, report.html and the checkpoints.
class RunOutputs {
 public:
  RunOutputs(const RunDirectory& dir, const RunConfig& cfg, Trainer& trainer, const Loader& loader)
      : dir_(dir), cfg_(cfg), trainer_(trainer), loader_(loader),
        use_ema_(cfg.output.sample_ema && trainer.ema_generator() != nullptr) {
    // Fixed z for the grids: derived from the seed, the same across resumes.
    Rng grid_rng(cfg.seed ^ 0x5eed5eedULL);
    grid_z_ = trainer.generator().sample_z(grid_rng, cfg.output.sample_count);
  }
  // The samples of the end of `epoch` (0: the final ones), latest, the curves and the report.
  void write(int64_t epoch, const RunHistory& history) {
    const Tensor samples = trainer_.sample(grid_z_, use_ema_);
    write_samples(samples, epoch);
    save_latest();
    write_report(dir_.root(), cfg_.resolved, history, write_curves(dir_.root(), history));
  }
  void save_latest() { save_checkpoint(dir_.latest_checkpoint().string(), trainer_, metadata()); }
  void save_best() { save_checkpoint((dir_.checkpoint_dir() / "best.safetensors").string(), trainer_, metadata()); }
  void save_numbered(int64_t iteration) {
    save_checkpoint((dir_.checkpoint_dir() / numbered("step_", iteration, ".safetensors")).string(), trainer_,
                    metadata());
  }
  fs::path final_samples() const {
    return is_image_data(cfg_) ? dir_.sample_dir() / "final.png" : dir_.root() / "samples_final.csv";
  }
  fs::path report() const { return dir_.root() / "report.html"; }

 private:
  void write_samples(const Tensor& samples, int64_t epoch) {
    if (epoch == 0 && is_image_data(cfg_)) write_image_grid(final_samples().string(), samples);
    else if (epoch == 0) write_points_csv(final_samples().string(), samples);
    else if (is_image_data(cfg_))
      write_image_grid((dir_.sample_dir() / numbered("epoch_", epoch, ".png", 4)).string(), samples);
    else write_points_csv((dir_.root() / numbered("samples_epoch_", epoch, ".csv", 4)).string(), samples);
  }
  std::map<std::string, std::string> metadata() const {
    return {{"config", cfg_.resolved.dump()}, {"loader.position", loader_.position().str()},
            {"sngan_version", SNGAN_VERSION}};
  }

  const RunDirectory& dir_;
  const RunConfig& cfg_;
  Trainer& trainer_;
  const Loader& loader_;
  bool use_ema_;
  Tensor grid_z_;  // (sample_count, z_dim)
};

// Whether a stop signal has arrived; with several ranks, whether one has arrived at any rank
// (every rank asks once per iteration, so all stop after the same one).
bool stop_requested(Trainer& trainer) {
  ProcessGroup* group = trainer.process_group();
  return group ? group->any(g_stop_signals > 0) : g_stop_signals > 0;
}

// ---- ranks: rank 0 owns the run directory; it sends the state it starts from (new or
// resumed) to the others, which then step in lockstep and write nothing.

// The trainer's state tensors (in state_tensors() order), its metadata and the loader's
// position as one byte string: a JSON line, then the raw tensors.
std::string pack_state(const Trainer& trainer, const Loader& loader) {
  json header = {{"metadata", trainer.state_metadata()}, {"loader.position", loader.position().str()}};
  std::string bytes = header.dump() + "\n";
  for (const auto& [name, t] : trainer.state_tensors())
    bytes.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.numel()) * sizeof(Scalar));
  return bytes;
}

void unpack_state(const std::string& bytes, Trainer& trainer, Loader& loader) {
  const std::string source = "the state sent by rank 0";
  const size_t end = bytes.find('\n');
  SNGAN_CHECK(end != std::string::npos, source, ": expected a JSON line first");
  const json header = json::parse(bytes.substr(0, end));
  std::map<std::string, Tensor> tensors;
  size_t at = end + 1;
  for (const auto& [name, t] : trainer.state_tensors()) {
    const size_t n = static_cast<size_t>(t.numel()) * sizeof(Scalar);
    SNGAN_CHECK(at + n <= bytes.size(), source, ": ends before tensor '", name, "' (another config on rank 0?)");
    Tensor copy = Tensor::empty(t.shape());
    std::copy(bytes.data() + at, bytes.data() + at + n, reinterpret_cast<char*>(copy.data()));
    tensors.emplace(name, copy);
    at += n;
  }
  SNGAN_CHECK(at == bytes.size(), source, ": ", bytes.size() - at, " bytes left over (another config on rank 0?)");
  trainer.load_state(tensors, header.at("metadata").get<std::map<std::string, std::string>>(), source);
  loader.restore(LoaderPosition::parse(header.at("loader.position").get<std::string>()));
}

// Ranks other than 0: the same steps on their shards, until the end or a stop.
int follow_training(const RunConfig& cfg, ProcessGroup& group) {
  install_stop_handlers();
  Trainer trainer(cfg.train, cfg.generator, cfg.discriminator);
  trainer.set_process_group(&group);
  Loader loader(open_run_dataset(cfg.data), cfg.loader, cfg.preprocess);
  std::string state;
  group.broadcast(state);
  unpack_state(state, trainer, loader);
  while (trainer.iteration() < cfg.train.iterations) {
    trainer.step([&] { return loader.next(); });
    if (stop_requested(trainer)) return 0;
  }
  return 0;
}

// Runs generator iterations until the configured count or a stop signal. Returns the exit code.
int train_loop(const RunConfig& cfg, Trainer& trainer, Loader& loader, const RunDirectory& dir, RunLog& log,
               RunOutputs& outputs, TrainingEvaluator* evaluator) {
  install_stop_handlers();
  Progress progress("train", cfg.train.iterations, trainer.iteration());
  while (trainer.iteration() < cfg.train.iterations) {
    const int64_t epoch_before = loader.position().epoch;
    StepStats s;
    try {
      s = trainer.step([&] { return loader.next(); });
    } catch (const DivergenceError& e) {
      progress.finish();
      throw Error(detail::concat(e.what(), "; the last good checkpoint in ", dir.checkpoint_dir().string(),
                                 " is kept; lower the learning rate or change the setting"));
    }
    log.count_iteration();
    if (s.iteration % cfg.output.log_every == 0 || s.iteration == cfg.train.iterations)
      log.write(s, loader.position().epoch, dir.checkpoint_dir());
    char losses[96];
    std::snprintf(losses, sizeof losses, "loss_d %.3f loss_g %.3f", s.loss_d, s.loss_g);
    progress.update(s.iteration, losses);
    if (evaluator && evaluator->due(s.iteration, cfg.train.iterations)) {
      progress.finish();
      log.untimed([&] {
        const json line = evaluator->evaluate(trainer);
        log.append(line, dir.checkpoint_dir());
        if (evaluator->improves(line)) outputs.save_best();
      });
    }

    // The numbered checkpoint goes first: a kill between the two writes then never leaves
    // latest ahead of a missing step_N.
    const bool numbered_due = cfg.output.checkpoint_every > 0 && s.iteration % cfg.output.checkpoint_every == 0;
    if (numbered_due) outputs.save_numbered(s.iteration);
    if (loader.position().epoch > epoch_before) outputs.write(loader.position().epoch, log.history());
    else if (numbered_due) outputs.save_latest();
    if (stop_requested(trainer)) {
      progress.finish();
      outputs.save_latest();
      std::fprintf(stderr, "sngan: stopped at iteration %ld; checkpoint written. Resume with:\n"
                           "  sngan train --resume --out %s\n",
                   static_cast<long>(s.iteration), dir.root().c_str());
      return 0;
    }
  }
  progress.finish();
  outputs.write(0, log.history());
  spdlog::info("done: {} iterations. Samples: {}, report: {}, log: {}, checkpoint: {}", trainer.iteration(),
               outputs.final_samples().string(), outputs.report().string(), dir.log_file().string(),
               dir.latest_checkpoint().string());
  return 0;
}

}  // namespace

int run_train(const TrainOptions& opt) {
  std::string config_path = opt.config_path;
  fs::path out = opt.out_dir;
  if (config_path.empty()) {
    SNGAN_CHECK(opt.resume && !out.empty(), "expected --config FILE (or --resume with --out DIR holding a run)");
    config_path = (out / "config.json").string();
  }
  if (out.empty()) out = fs::path("runs") / fs::path(config_path).stem();
  const RunConfig cfg = load_run_config(config_path, opt.overrides);
  ProcessGroup* group = world_group();  // under mpirun: rank r of a data-parallel job
  const int threads = set_threads(threads_per_rank(cfg.threads));
  if (opt.dry_run) return group && group->rank() > 0 ? 0 : print_dry_run(cfg);
  if (group && group->rank() > 0) return follow_training(cfg, *group);

  // Everything that can fail on bad input is checked or built before anything is written.
  RunDirectory dir(out, cfg.resolved, opt.resume);
  Trainer trainer(cfg.train, cfg.generator, cfg.discriminator);
  trainer.set_process_group(group);
  Loader loader(open_run_dataset(cfg.data), cfg.loader, cfg.preprocess);
  std::unique_ptr<TrainingEvaluator> evaluator;
  if (cfg.output.eval_every > 0) {
    SNGAN_CHECK(is_image_data(cfg), "output.eval_every: expected 0 for the toy 2D sets (no feature network "
                "for points), got ", cfg.output.eval_every);
    evaluator = std::make_unique<TrainingEvaluator>(cfg);
  }
  dir.open(is_image_data(cfg));
  RunHistory history = dir.restore(trainer, loader);
  if (evaluator) evaluator->resume(history);
  if (group) {
    std::string state = pack_state(trainer, loader);
    group->broadcast(state);
  }
  const std::string ranks = group ? fmt::format("{} ranks x ", group->size()) : "";
  spdlog::info("training {} on {} ({}{} threads): {} generator iterations, {} batches per epoch; run directory {}",
               to_string(cfg.generator.architecture), cfg.data.format, ranks, threads, cfg.train.iterations,
               loader.batches_per_epoch(), out.string());

  if (cfg.train.precision == kernels::Precision::kBf16) {
    const kernels::Bf16Engine engine = kernels::bf16_engine();
    if (engine != kernels::Bf16Engine::kEmulated)
      spdlog::info("train.precision bf16: GEMMs on {} (bf16 operands, fp32 sums)", kernels::describe(engine));
    if (engine == kernels::Bf16Engine::kAvx512Dot) {
      // Some CPUs run vdpbf16ps at half their fp32 FMA rate (Intel Xeons whose AMX tiles the
      // system withholds): measure both on one thread (about 0.1 s) and say so.
      const double dot = bf16_dot_peak_gflops(1, 2), fma = fma_peak_gflops(1, 2);
      if (dot <= fma)
        spdlog::warn("train.precision bf16: this CPU's AVX512_BF16 dot products run at {:.0f} GFLOP/s per thread "
                     "against {:.0f} for fp32 FMAs, so bf16 is slower than fp32 here; use fp32 for speed",
                     dot, fma);
    }
    if (engine == kernels::Bf16Engine::kEmulated)
      spdlog::warn("train.precision bf16: {} has neither AMX-BF16 tiles nor AVX512_BF16, so bf16 is emulated "
                   "(operands rounded to bf16, fp32 GEMMs): bf16's numerics at no speed-up; use fp32 for speed here",
                   describe_cpu(cpu_info()));
  }

  RunLog log(dir.log_file(), std::move(history), cfg.train.n_dis * cfg.train.batch_size);
  RunOutputs outputs(dir, cfg, trainer, loader);
  return train_loop(cfg, trainer, loader, dir, log, outputs, evaluator.get());
}

}  // namespace sngan
