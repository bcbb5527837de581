#include "data/toy2d.h"

#include <cmath>
#include <sstream>

#include "core/tensor/check.h"
#include "core/tensor/rng.h"
#include "data/seed.h"

namespace sngan {

std::vector<std::array<double, 2>> toy2d_centers(const Toy2DConfig& cfg) {
  std::vector<std::array<double, 2>> c;
  if (cfg.kind == "ring8") {
    SNGAN_CHECK(cfg.radius > 0, "ring8: expected radius > 0, got ", cfg.radius);
    const double pi = 3.14159265358979323846;
    for (int k = 0; k < 8; ++k)
      c.push_back({cfg.radius * std::cos(2 * pi * k / 8), cfg.radius * std::sin(2 * pi * k / 8)});
  } else if (cfg.kind == "grid25") {
    SNGAN_CHECK(cfg.spacing > 0, "grid25: expected spacing > 0, got ", cfg.spacing);
    for (int i = -2; i <= 2; ++i)
      for (int j = -2; j <= 2; ++j) c.push_back({i * cfg.spacing, j * cfg.spacing});
  } else {
    SNGAN_CHECK(false, "expected toy 2D kind 'ring8' or 'grid25', got '", cfg.kind, "'");
  }
  return c;
}

double toy2d_std(const Toy2DConfig& cfg) {
  if (cfg.std > 0) return cfg.std;
  return cfg.kind == "grid25" ? 0.05 : 0.02;
}

Toy2DDataset::Toy2DDataset(const Toy2DConfig& cfg)
    : cfg_(cfg), std_(toy2d_std(cfg)), centers_(toy2d_centers(cfg)) {
  SNGAN_CHECK(cfg.size > 0, cfg.kind, ": expected a nominal size > 0, got ", cfg.size);
  SNGAN_CHECK(std::isfinite(cfg.std), cfg.kind, ": expected a finite std, got ", cfg.std);
}

void Toy2DDataset::read(int64_t i, Example& out) const {
  check_index(i);
  Rng rng(mix_seed(cfg_.seed, static_cast<uint64_t>(i)));
  const auto mode = rng.below(centers_.size());
  const double dx = rng.normal(), dy = rng.normal();
  out.pixels.clear();
  out.height = out.width = out.channels = 0;
  out.features.assign({static_cast<float>(centers_[mode][0] + std_ * dx),
                       static_cast<float>(centers_[mode][1] + std_ * dy)});
  out.label = static_cast<int>(mode);
}

std::string Toy2DDataset::source(int64_t i) const {
  return cfg_.kind + " example " + std::to_string(i);
}

std::string Toy2DDataset::describe() const {
  std::ostringstream os;
  os << cfg_.kind << " (" << cfg_.size << " points, " << centers_.size() << " modes, std " << std_
     << ", seed " << cfg_.seed << ")";
  return os.str();
}

}  // namespace sngan
