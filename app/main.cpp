// sngan: train, sample from and benchmark spectrally normalized GANs on the CPU.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <vector>

#include "app/bench_command.h"
#include "app/classifier_command.h"
#include "app/eval_command.h"
#include "app/inspect_command.h"
#include "app/mpi_group.h"
#include "app/plot_command.h"
#include "app/progress.h"
#include "app/sample_command.h"
#include "app/stats_command.h"
#include "app/train_command.h"
#include "app/usage.h"
#include "core/tensor/check.h"

namespace {
// OpenMP worker threads that spin while waiting make a run several times slower as soon as
// another process wants a core (measured: 0.30 s per iteration on 1 thread, 1.85 s on 2
// spinning threads, 0.58 s on 2 sleeping threads, with one core busy elsewhere). libgomp reads
// its wait policy before main, so when the user has not chosen one, set PASSIVE and restart.
void prefer_passive_openmp_waits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then go on as we are
}

// A subcommand: its node in the command line, what runs it once parsed, and whether it runs
// as one job over MPI ranks (the others refuse to run under a launcher with several ranks).
struct Command {
  CLI::App* cli;
  std::function<int()> run;
  bool over_ranks = false;
};

template <typename Options>
Command add_command(CLI::App& parent, const char* name, const char* help, void (*declare)(CLI::App&, Options&),
                    int (*run)(const Options&)) {
  auto options = std::make_shared<Options>();
  CLI::App* cli = parent.add_subcommand(name, help);
  declare(*cli, *options);
  return {cli, [options, run] { return run(*options); }};
}

void declare_train(CLI::App& cmd, sngan::TrainOptions& o) {
  cmd.add_option("--config", o.config_path, "JSON config (see configs/)");
  cmd.add_option("--set", o.overrides, "override a config value: key.path=value (repeatable)");
  cmd.add_option("--out", o.out_dir, "run directory (default runs/<config name>)");
  cmd.add_flag("--resume", o.resume, "continue the run in --out from its latest valid checkpoint");
  cmd.add_flag("--dry-run", o.dry_run, "print the resolved config, parameter counts and FLOPs, then exit");
}

void declare_sample(CLI::App& cmd, sngan::SampleOptions& o) {
  cmd.add_option("--checkpoint", o.checkpoint, "a checkpoint written by sngan train")->required();
  cmd.add_option("--n", o.n, "number of samples")->capture_default_str();
  cmd.add_option("--out", o.out_dir, "output directory")->required();
  cmd.add_option("--seed", o.seed, "seed of z (same seed, same images)")->capture_default_str();
  cmd.add_flag("--grid", o.grid, "also write all samples as one grid.png");
  cmd.add_flag("--grid-only", o.grid_only, "write only grid.png");
  cmd.add_flag("--ema", o.ema, "sample from the moving average of G's weights");
}

void declare_bench(CLI::App& cmd, sngan::BenchOptions& o) {
  cmd.add_option("--config", o.config_path, "JSON config of the model to time")->required();
  cmd.add_option("--iters", o.iters, "measured generator iterations")->capture_default_str();
  cmd.add_option("--warmup", o.warmup, "untimed iterations first")->capture_default_str();
  cmd.add_option("--threads", o.threads, "threads (0: the config's, else every core)");
  cmd.add_option("--set", o.overrides, "override a config value: key.path=value (repeatable; "
                 "train.precision=bf16 times the bf16 mode)");
}

void declare_classifier_train(CLI::App& cmd, sngan::ClassifierTrainOptions& o) {
  cmd.add_option("--config", o.config_path, "JSON config (configs/classifier_*.json)")->required();
  cmd.add_option("--out", o.out_path, "output file (default: the config's \"out\")");
}

void declare_stats(CLI::App& cmd, sngan::StatsOptions& o) {
  cmd.add_option("--config", o.config_path, "run config whose data section is embedded")->required();
  cmd.add_option("--features", o.features_path, "feature network file (default: the FID Inception weights)")
      ->capture_default_str();
  cmd.add_option("--out", o.out_path, "statistics file to write (.safetensors)")->required();
  cmd.add_option("--n", o.n, "real images (0: the whole split)")->capture_default_str();
}

void declare_eval(CLI::App& cmd, sngan::EvalOptions& o) {
  cmd.add_option("--checkpoint", o.checkpoint, "checkpoint written by sngan train");
  cmd.add_option("--images", o.images_dir, "folder of PNG/JPEG images instead of a checkpoint");
  cmd.add_option("--data", o.data_config, "score the images of a run config's data section instead");
  cmd.add_option("--n", o.n, "samples to generate (--images, --data: at most this many)")->capture_default_str();
  cmd.add_flag("--ema", o.ema, "sample from the moving average of G's weights");
  cmd.add_option("--seed", o.seed, "seed of z and of KID's subsets")->capture_default_str();
  cmd.add_option("--reference", o.reference, "statistics file of sngan stats, or a data config")->required();
  cmd.add_option("--features", o.features, "feature network file (default: the FID Inception weights)")
      ->capture_default_str();
  cmd.add_option("--metrics", o.metrics, "comma-separated: fd,kid,is,pr")->capture_default_str();
  cmd.add_option("--out", o.out, "write the results as JSON");
}

void declare_inspect(CLI::App& cmd, sngan::InspectOptions& o) {
  cmd.add_option("--checkpoint", o.checkpoint, "checkpoint written by sngan train")->required();
  cmd.add_flag("--spectra", o.spectra, "singular values of each D weight (out x in*kh*kw), as CSV");
  cmd.add_option("--out", o.out, "write the CSV here (default: standard output)");
}

void declare_plot(CLI::App& cmd, sngan::PlotOptions& o) {
  cmd.add_option("--csv", o.csv, "input CSV with a header line")->required();
  cmd.add_option("--x", o.x, "x column")->required();
  cmd.add_option("--y", o.y, "y column")->required();
  cmd.add_option("--group", o.group, "column naming the series (one series per value)");
  cmd.add_option("--where", o.where, "keep rows with COL=VALUE (repeatable)");
  cmd.add_option("--out", o.out, "PNG to write")->required();
  cmd.add_option("--title", o.title, "title");
  cmd.add_option("--xlabel", o.x_label, "x axis label (default: the x column)");
  cmd.add_option("--ylabel", o.y_label, "y axis label (default: the y column)");
  cmd.add_flag("--logx", o.log_x, "log10 x axis");
  cmd.add_flag("--logy", o.log_y, "log10 y axis");
  cmd.add_flag("--points", o.points, "markers only, no lines");
  cmd.add_flag("--bars", o.bars, "grouped bar chart: --x names the categories, --group the bars in each");
  cmd.add_option("--ymin", o.y_min, "lower end of the y axis");
  cmd.add_option("--ymax", o.y_max, "upper end of the y axis");
  cmd.add_option("--width", o.width, "width in pixels")->capture_default_str();
  cmd.add_option("--height", o.height, "height in pixels")->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sngan;
  prefer_passive_openmp_waits(argv);
  CLI::App app{"sngan: spectrally normalized GANs (Miyato et al., ICLR 2018) on the CPU"};
  app.set_version_flag("--version", std::string("sngan ") + SNGAN_VERSION);
  app.require_subcommand(1);
  std::vector<Command> commands = {
      add_command(app, "train", "train a GAN from a JSON config", declare_train, run_train),
      add_command(app, "sample", "write images from a checkpoint", declare_sample, run_sample),
      add_command(app, "bench", "time training iterations on synthetic data", declare_bench, run_bench)};
  commands[0].over_ranks = commands[2].over_ranks = true;
  CLI::App* classifier = app.add_subcommand("classifier", "the small CNN feature network for evaluation");
  classifier->require_subcommand(1);
  commands.push_back(add_command(*classifier, "train", "train the classifier and report its test accuracy",
                                 declare_classifier_train, run_classifier_train));
  commands.push_back(add_command(app, "stats", "embed a data config's real images into a reference file",
                                 declare_stats, run_stats));
  commands.push_back(add_command(app, "eval", "score a checkpoint or an image folder (FD/FID, KID, IS, PR)",
                                 declare_eval, run_eval));
  commands.back().over_ranks = true;  // the images are split over the ranks
  commands.push_back(add_command(app, "inspect", "report on a checkpoint's discriminator", declare_inspect,
                                 run_inspect));
  commands.push_back(add_command(app, "plot", "draw a PNG line, points or bar plot from CSV columns", declare_plot,
                                 run_plot));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return report_usage_error(app, error, argc, argv);
  }
  spdlog::set_pattern("[%H:%M:%S] %v");
  int code = 0;
  try {
    ProcessGroup* world = start_mpi(&argc, &argv);
    if (world && world->size() > 1) {
      spdlog::set_pattern(fmt::format("[%H:%M:%S rank {}] %v", world->rank()));
      if (world->rank() > 0) {  // rank 0 reports
        spdlog::set_level(spdlog::level::warn);
        Progress::set_quiet(true);
      }
    }
    for (const Command& c : commands)
      if (c.cli->parsed()) {
        SNGAN_CHECK(!world || world->size() == 1 || c.over_ranks, "sngan ", c.cli->get_name(),
                    " runs as one process; only train, bench and eval run over MPI ranks (start it without mpirun)");
        code = c.run();
      }
  } catch (const Error& e) {
    std::fprintf(stderr, "sngan: error: %s\n", e.what());
    code = kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sngan: internal error: %s\n", e.what());
    code = kExitInternalError;
  }
  if (code != 0) abort_all_ranks(code);  // no rank may wait for a failed one
  finish_mpi();
  return code;
}
