#include "data/open_dataset.h"

#include "core/tensor/check.h"
#include "data/cifar.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "data/stl10.h"

namespace sngan {

std::unique_ptr<Dataset> open_dataset(const DatasetConfig& config) {
  const std::string& f = config.format;
  if (f == "ring8" || f == "grid25") {
    Toy2DConfig toy = config.toy;
    toy.kind = f;
    return std::make_unique<Toy2DDataset>(toy);
  }
  SNGAN_CHECK(f == "idx" || f == "cifar10" || f == "cifar100" || f == "stl10" || f == "folder",
              "expected data format 'idx', 'cifar10', 'cifar100', 'stl10', 'folder', 'ring8' or "
              "'grid25', got '", f, "'");
  SNGAN_CHECK(!config.path.empty(), "expected a data path for format '", f, "', got an empty path");
  if (f == "idx") {
    const IdxPaths p = resolve_idx_paths(config.path, config.split, config.labels_path);
    return std::make_unique<IdxDataset>(p.images, p.labels);
  }
  if (f == "cifar10" || f == "cifar100") {
    const CifarKind kind = f == "cifar10" ? CifarKind::kCifar10 : CifarKind::kCifar100;
    return std::make_unique<CifarDataset>(kind, cifar_files(kind, config.path, config.split),
                                          config.coarse_labels);
  }
  if (f == "stl10") {
    const Stl10Paths p = resolve_stl10_paths(config.path, config.split);
    return std::make_unique<Stl10Dataset>(p.images, p.labels);
  }
  return std::make_unique<ImageFolderDataset>(config.path);
}

}  // namespace sngan
