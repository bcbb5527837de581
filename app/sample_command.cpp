#include "app/sample_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "app/run_setup.h"
#include "core/gan/checkpoint.h"
#include "core/io/atomic_file.h"
#include "core/io/image_io.h"

namespace sngan {

namespace fs = std::filesystem;

int run_sample(const SampleOptions& o) {
  SNGAN_CHECK(o.n > 0, "--n: expected a positive number of samples, got ", o.n);
  TensorFile file = read_safetensors(o.checkpoint);
  auto it = file.metadata.find("config");
  SNGAN_CHECK(it != file.metadata.end(), o.checkpoint,
              ": expected an sngan checkpoint (metadata 'config' not found)");
  RunConfig cfg = run_config_from_text(it->second, o.checkpoint + " (stored config)");
  set_threads(cfg.threads);
  Trainer trainer(cfg.train, cfg.generator, cfg.discriminator);
  trainer.load_state(file.tensors, file.metadata, o.checkpoint);
  SNGAN_CHECK(!o.ema || trainer.ema_generator() != nullptr, o.checkpoint,
              ": --ema asked for, but this run kept no moving average (train.ema_decay was 0)");

  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  SNGAN_CHECK(!ec, "cannot create output directory ", o.out_dir, ": ", ec.message());
  Rng rng(o.seed);
  const Tensor z = trainer.generator().sample_z(rng, o.n);
  const Tensor x = trainer.sample(z, o.ema);
  const bool image = x.ndim() == 4;
  if (!image) {  // toy 2D: one CSV
    std::string csv = "x,y\n";
    char buf[64];
    for (int64_t i = 0; i < o.n; ++i) {
      std::snprintf(buf, sizeof buf, "%.6g,%.6g\n", x[2 * i], x[2 * i + 1]);
      csv += buf;
    }
    write_file_atomic((fs::path(o.out_dir) / "samples.csv").string(), csv);
    spdlog::info("wrote {} points to {}", o.n, (fs::path(o.out_dir) / "samples.csv").string());
    return 0;
  }
  if (!o.grid_only) {
    const int64_t per = x.numel() / o.n;
    for (int64_t i = 0; i < o.n; ++i) {
      Tensor one = Tensor::empty(Shape{x.dim(1), x.dim(2), x.dim(3)});
      std::copy(x.data() + i * per, x.data() + (i + 1) * per, one.data());
      char name[32];
      std::snprintf(name, sizeof name, "sample_%05ld.png", static_cast<long>(i));
      write_image((fs::path(o.out_dir) / name).string(), one);
    }
  }
  if (o.grid || o.grid_only) write_image_grid((fs::path(o.out_dir) / "grid.png").string(), x);
  spdlog::info("wrote {} from {} (iteration {}{}) to {}",
               o.grid_only ? "a grid of " + std::to_string(o.n) + " samples"
                           : std::to_string(o.n) + " samples" + (o.grid ? " and grid.png" : ""),
               o.checkpoint, trainer.iteration(), o.ema ? ", EMA generator" : "", o.out_dir);
  return 0;
}

}  // namespace sngan
