#include "data/stl10.h"

#include "core/tensor/check.h"
#include "data/file_io.h"

namespace sngan {

Stl10Paths resolve_stl10_paths(const std::string& path, const std::string& split) {
  if (is_directory(path)) {
    SNGAN_CHECK(split == "train" || split == "test" || split == "unlabeled", path,
                ": expected split 'train', 'test' or 'unlabeled' for STL-10, got '", split, "'");
    Stl10Paths p{join_path(path, split + "_X.bin"), ""};
    if (split != "unlabeled") p.labels = join_path(path, split + "_y.bin");
    return p;
  }
  Stl10Paths p{path, ""};
  const std::string suffix = "_X.bin";
  if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
    const std::string labels = path.substr(0, path.size() - suffix.size()) + "_y.bin";
    if (is_regular_file(labels)) p.labels = labels;
  }
  return p;
}

Stl10Dataset::Stl10Dataset(const std::string& images_path, const std::string& labels_path) {
  const std::string what = "an STL-10 images file (*_X.bin)";
  images_ = std::make_unique<FileReader>(images_path, what);
  const uint64_t bytes = images_->size();
  SNGAN_CHECK(bytes > 0, images_path, ": expected ", what, " of ", kImageBytes,
              "-byte records, got an empty file");
  SNGAN_CHECK(bytes % kImageBytes == 0, images_path, ": expected a whole number of ", kImageBytes,
              "-byte STL-10 records (3 x 96 x 96), got ", bytes, " bytes (", bytes / kImageBytes,
              " records and ", bytes % kImageBytes, " bytes left over: truncated or not STL-10)");
  count_ = static_cast<int64_t>(bytes / kImageBytes);
  if (labels_path.empty()) return;

  labels_ = read_whole_file(labels_path, "an STL-10 labels file (*_y.bin)");
  SNGAN_CHECK(static_cast<int64_t>(labels_.size()) == count_, labels_path, ": expected ", count_,
              " label bytes (one per image of ", images_path, "), got ", labels_.size());
  for (size_t i = 0; i < labels_.size(); ++i) {
    SNGAN_CHECK(labels_[i] >= 1 && labels_[i] <= 10, labels_path,
                ": expected STL-10 labels in 1..10, got ", int(labels_[i]), " at byte ", i);
    labels_[i] = static_cast<uint8_t>(labels_[i] - 1);
  }
}

Stl10Dataset::~Stl10Dataset() = default;

void Stl10Dataset::read(int64_t i, Example& out) const {
  check_index(i);
  thread_local std::vector<uint8_t> raw;  // (3, 96 cols, 96 rows)
  raw.resize(kImageBytes);
  images_->read_at(static_cast<uint64_t>(i) * kImageBytes, raw.data(), raw.size());
  out.pixels.resize(kImageBytes);
  uint8_t* hwc = out.pixels.data();
  constexpr int plane = kSide * kSide;
  for (int c = 0; c < 3; ++c)
    for (int x = 0; x < kSide; ++x) {
      const uint8_t* col = raw.data() + c * plane + x * kSide;
      for (int y = 0; y < kSide; ++y) hwc[(y * kSide + x) * 3 + c] = col[y];
    }
  out.height = kSide;
  out.width = kSide;
  out.channels = 3;
  out.features.clear();
  out.label = labels_.empty() ? -1 : labels_[static_cast<size_t>(i)];
}

std::string Stl10Dataset::source(int64_t i) const {
  return images_->path() + " record " + std::to_string(i);
}

std::string Stl10Dataset::describe() const {
  return "stl10 " + images_->path() + " (" + std::to_string(count_) + " images 96x96x3, " +
         (labels_.empty() ? std::string("unlabeled") : std::string("10 classes")) +
         ", read on demand)";
}

}  // namespace sngan
