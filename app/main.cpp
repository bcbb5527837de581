// sngan: train, sample from and benchmark spectrally normalized GANs on the CPU.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/bench_command.h"
#include "app/classifier_command.h"
#include "app/eval_command.h"
#include "app/inspect_command.h"
#include "app/plot_command.h"
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
}  // namespace

int main(int argc, char** argv) {
  using namespace sngan;
  prefer_passive_openmp_waits(argv);
  CLI::App app{"sngan: spectrally normalized GANs (Miyato et al., ICLR 2018) on the CPU"};
  app.set_version_flag("--version", std::string("sngan ") + SNGAN_VERSION);
  app.require_subcommand(1);

  TrainOptions train;
  CLI::App* t = app.add_subcommand("train", "train a GAN from a JSON config");
  t->add_option("--config", train.config_path, "JSON config (see configs/)");
  t->add_option("--set", train.overrides, "override a config value: key.path=value (repeatable)");
  t->add_option("--out", train.out_dir, "run directory (default runs/<config name>)");
  t->add_flag("--resume", train.resume, "continue the run in --out from its latest valid checkpoint");
  t->add_flag("--dry-run", train.dry_run,
              "print the resolved config, parameter counts and FLOPs, then exit");

  SampleOptions sample;
  CLI::App* s = app.add_subcommand("sample", "write images from a checkpoint");
  s->add_option("--checkpoint", sample.checkpoint, "a checkpoint written by sngan train")->required();
  s->add_option("--n", sample.n, "number of samples")->capture_default_str();
  s->add_option("--out", sample.out_dir, "output directory")->required();
  s->add_option("--seed", sample.seed, "seed of z (same seed, same images)")->capture_default_str();
  s->add_flag("--grid", sample.grid, "also write all samples as one grid.png");
  s->add_flag("--grid-only", sample.grid_only, "write only grid.png");
  s->add_flag("--ema", sample.ema, "sample from the moving average of G's weights");

  BenchOptions bench;
  CLI::App* b = app.add_subcommand("bench", "time training iterations on synthetic data");
  b->add_option("--config", bench.config_path, "JSON config of the model to time")->required();
  b->add_option("--iters", bench.iters, "measured generator iterations")->capture_default_str();
  b->add_option("--warmup", bench.warmup, "untimed iterations first")->capture_default_str();
  b->add_option("--threads", bench.threads, "threads (0: the config's, else every core)");

  ClassifierTrainOptions classifier;
  CLI::App* c = app.add_subcommand("classifier", "the small CNN feature network for evaluation");
  c->require_subcommand(1);
  CLI::App* ct = c->add_subcommand("train", "train the classifier and report its test accuracy");
  ct->add_option("--config", classifier.config_path, "JSON config (configs/classifier_*.json)")->required();
  ct->add_option("--out", classifier.out_path, "output file (default: the config's \"out\")");

  StatsOptions stats;
  CLI::App* st = app.add_subcommand("stats", "embed a data config's real images into a reference file");
  st->add_option("--config", stats.config_path, "run config whose data section is embedded")->required();
  st->add_option("--features", stats.features_path, "feature network file (default: the FID Inception weights)")
      ->capture_default_str();
  st->add_option("--out", stats.out_path, "statistics file to write (.safetensors)")->required();
  st->add_option("--n", stats.n, "real images (0: the whole split)")->capture_default_str();

  EvalOptions eval;
  CLI::App* ev = app.add_subcommand("eval", "score a checkpoint or an image folder (FD/FID, KID, IS, PR)");
  ev->add_option("--checkpoint", eval.checkpoint, "checkpoint written by sngan train");
  ev->add_option("--images", eval.images_dir, "folder of PNG/JPEG images instead of a checkpoint");
  ev->add_option("--data", eval.data_config, "score the images of a run config's data section instead");
  ev->add_option("--n", eval.n, "samples to generate (--images, --data: at most this many)")->capture_default_str();
  ev->add_flag("--ema", eval.ema, "sample from the moving average of G's weights");
  ev->add_option("--seed", eval.seed, "seed of z and of KID's subsets")->capture_default_str();
  ev->add_option("--reference", eval.reference, "statistics file of sngan stats, or a data config")->required();
  ev->add_option("--features", eval.features, "feature network file (default: the FID Inception weights)")
      ->capture_default_str();
  ev->add_option("--metrics", eval.metrics, "comma-separated: fd,kid,is,pr")->capture_default_str();
  ev->add_option("--out", eval.out, "write the results as JSON");

  InspectOptions inspect;
  CLI::App* in = app.add_subcommand("inspect", "report on a checkpoint's discriminator");
  in->add_option("--checkpoint", inspect.checkpoint, "checkpoint written by sngan train")->required();
  in->add_flag("--spectra", inspect.spectra, "singular values of each D weight (out x in*kh*kw), as CSV");
  in->add_option("--out", inspect.out, "write the CSV here (default: standard output)");

  PlotOptions plot;
  CLI::App* pl = app.add_subcommand("plot", "draw a PNG line or points plot from CSV columns");
  pl->add_option("--csv", plot.csv, "input CSV with a header line")->required();
  pl->add_option("--x", plot.x, "x column")->required();
  pl->add_option("--y", plot.y, "y column")->required();
  pl->add_option("--group", plot.group, "column naming the series (one series per value)");
  pl->add_option("--where", plot.where, "keep rows with COL=VALUE (repeatable)");
  pl->add_option("--out", plot.out, "PNG to write")->required();
  pl->add_option("--title", plot.title, "title");
  pl->add_option("--xlabel", plot.x_label, "x axis label (default: the x column)");
  pl->add_option("--ylabel", plot.y_label, "y axis label (default: the y column)");
  pl->add_flag("--logx", plot.log_x, "log10 x axis");
  pl->add_flag("--logy", plot.log_y, "log10 y axis");
  pl->add_flag("--points", plot.points, "markers only, no lines");
  pl->add_option("--ymin", plot.y_min, "lower end of the y axis");
  pl->add_option("--ymax", plot.y_max, "upper end of the y axis");
  pl->add_option("--width", plot.width, "width in pixels")->capture_default_str();
  pl->add_option("--height", plot.height, "height in pixels")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return report_usage_error(app, error, argc, argv);
  }
  spdlog::set_pattern("[%H:%M:%S] %v");
  try {
    if (t->parsed()) return run_train(train);
    if (s->parsed()) return run_sample(sample);
    if (b->parsed()) return run_bench(bench);
    if (ct->parsed()) return run_classifier_train(classifier);
    if (st->parsed()) return run_stats(stats);
    if (ev->parsed()) return run_eval(eval);
    if (in->parsed()) return run_inspect(inspect);
    if (pl->parsed()) return run_plot(plot);
  } catch (const Error& e) {
    std::fprintf(stderr, "sngan: error: %s\n", e.what());
    return kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sngan: internal error: %s\n", e.what());
    return kExitInternalError;
  }
  return 0;
}
