// Toy 2D data sets for mode-collapse experiments: mixtures of isotropic Gaussians.
//   ring8:  8 modes evenly spaced on a circle of radius `radius` (default 2), first mode at
//           angle 0, std default 0.02.
//   grid25: 25 modes on the 5x5 grid {-2,-1,0,1,2} * spacing (default spacing 2, i.e.
//           {-4,-2,0,2,4}), std default 0.05.
// Each example is a 2-vector (features) labelled with its mode index. Example i is a pure
// function of (seed, i): mode uniform over the modes, point = center + std * N(0, I), so
// the data set has a nominal size but needs no memory, and reads are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace sngan {

struct Toy2DConfig {
  std::string kind = "ring8";  // "ring8" or "grid25"
  int64_t size = 100000;       // nominal number of examples
  double std = 0.0;            // <= 0: the kind's default (0.02 ring8, 0.05 grid25)
  double radius = 2.0;         // ring8
  double spacing = 2.0;        // grid25
  uint64_t seed = 0;
};

// The mode centers, in label order (so a trainer test can count covered modes).
std::vector<std::array<double, 2>> toy2d_centers(const Toy2DConfig& cfg);
// The std actually used (resolves the default).
double toy2d_std(const Toy2DConfig& cfg);

class Toy2DDataset : public Dataset {
 public:
  explicit Toy2DDataset(const Toy2DConfig& cfg);

  int64_t size() const override { return cfg_.size; }
  void read(int64_t i, Example& out) const override;
  int num_classes() const override { return static_cast<int>(centers_.size()); }
  int feature_dim() const override { return 2; }
  ImageDims dims(int64_t) const override { return {}; }
  std::string source(int64_t i) const override;
  std::string describe() const override;

  const std::vector<std::array<double, 2>>& centers() const { return centers_; }

 private:
  Toy2DConfig cfg_;
  double std_ = 0.0;
  std::vector<std::array<double, 2>> centers_;
};

}  // namespace sngan
