#include "app/sample_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "app/run_setup.h"
#include "core/gan/checkpoint.h"
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
  std::shared_ptr<Generator> g = load_generator(file, cfg.generator, o.ema, o.checkpoint);
  auto iteration = file.metadata.find("iteration");

  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  SNGAN_CHECK(!ec, "cannot create output directory ", o.out_dir, ": ", ec.message());
  Rng rng(o.seed);
  const Tensor z = g->sample_z(rng, o.n);
  Tensor x;
  {
    NoGradGuard no_grad;
    x = g->forward(Var(z)).value();
  }
  const bool image = x.ndim() == 4;
  if (!image) {  // toy 2D: one CSV
    write_points_csv((fs::path(o.out_dir) / "samples.csv").string(), x);
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
               o.checkpoint, iteration == file.metadata.end() ? "?" : iteration->second, o.ema ? ", EMA generator" : "", o.out_dir);
  return 0;
}

}  // namespace sngan
