// open_dataset: a Dataset from a plain config struct (the app fills it from JSON).
#pragma once

#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/toy2d.h"

namespace sngan {

struct DatasetConfig {
  // "idx" (MNIST, Fashion-MNIST), "cifar10", "cifar100", "stl10", "folder", "ring8", "grid25"
  std::string format;
  // idx/cifar10/cifar100/stl10: the data directory in its official layout, or one file
  // (see resolve_idx_paths, cifar_files, resolve_stl10_paths); folder: the root.
  // Unused by the toy sets.
  std::string path;
  std::string split = "train";  // "train" | "test"; stl10 also "unlabeled"
  std::string labels_path;      // idx only: labels file when path is an images file
  bool coarse_labels = false;   // cifar100: 20 superclasses instead of 100 fine classes
  Toy2DConfig toy;              // ring8/grid25: toy.kind is set from format
};

// Throws sngan::Error for an unknown format or split, and for every file problem (the
// message names the path, what was expected and what was found).
std::unique_ptr<Dataset> open_dataset(const DatasetConfig& config);

}  // namespace sngan
