#include "data/cifar.h"

#include "core/tensor/check.h"
#include "data/file_io.h"

namespace sngan {

namespace {
const char* kind_name(CifarKind kind) { return kind == CifarKind::kCifar10 ? "CIFAR-10" : "CIFAR-100"; }
}  // namespace

std::vector<std::string> cifar_files(CifarKind kind, const std::string& path,
                                     const std::string& split) {
  if (!is_directory(path)) return {path};
  SNGAN_CHECK(split == "train" || split == "test", path, ": expected split 'train' or 'test' for ",
              kind_name(kind), ", got '", split, "'");
  if (kind == CifarKind::kCifar100) return {join_path(path, split + ".bin")};
  if (split == "test") return {join_path(path, "test_batch.bin")};
  std::vector<std::string> files;
  for (int b = 1; b <= 5; ++b) files.push_back(join_path(path, "data_batch_" + std::to_string(b) + ".bin"));
  return files;
}

CifarDataset::CifarDataset(CifarKind kind, const std::vector<std::string>& files,
                           bool coarse_labels)
    : kind_(kind), files_(files) {
  SNGAN_CHECK(!files.empty(), "expected at least one ", kind_name(kind), " batch file, got none");
  const bool c100 = kind == CifarKind::kCifar100;
  const int label_bytes = c100 ? 2 : 1;
  const int label_offset = c100 && !coarse_labels ? 1 : 0;
  num_classes_ = !c100 ? 10 : coarse_labels ? 20 : 100;
  const uint64_t record = static_cast<uint64_t>(label_bytes + kImageBytes);
  const std::string what = std::string("a ") + kind_name(kind) + " binary batch file";

  // Check every file before reading any, so a bad last file fails fast.
  uint64_t total = 0;
  std::vector<uint64_t> sizes;
  for (const auto& f : files) {
    const uint64_t bytes = regular_file_size(f, what);
    SNGAN_CHECK(bytes > 0, f, ": expected ", what, " of ", record, "-byte records, got an empty file");
    SNGAN_CHECK(bytes % record == 0, f, ": expected a whole number of ", record, "-byte ",
                kind_name(kind), " records, got ", bytes, " bytes (", bytes / record,
                " records and ", bytes % record, " bytes left over: truncated or not ",
                kind_name(kind), ")");
    sizes.push_back(bytes / record);
    total += bytes / record;
  }
  pixels_.resize(static_cast<size_t>(total) * kImageBytes);
  labels_.resize(static_cast<size_t>(total));

  int64_t n = 0;
  std::vector<uint8_t> bytes;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    file_starts_.push_back(n);
    bytes = read_whole_file(files[fi], what);
    SNGAN_CHECK(bytes.size() == sizes[fi] * record, files[fi], ": expected ", sizes[fi] * record,
                " bytes, got ", bytes.size(), " (the file changed while being read)");
    for (uint64_t r = 0; r < sizes[fi]; ++r, ++n) {
      const uint8_t* rec = bytes.data() + r * record;
      const int label = rec[label_offset];
      SNGAN_CHECK(label < num_classes_, files[fi], ": expected a ",
                  c100 ? (coarse_labels ? "coarse " : "fine ") : "", "label in [0, ", num_classes_,
                  ") in record ", r, " (byte offset ", r * record + label_offset, "), got ", label);
      labels_[static_cast<size_t>(n)] = static_cast<uint8_t>(label);
      const uint8_t* planes = rec + label_bytes;  // (3, 32, 32)
      uint8_t* hwc = pixels_.data() + static_cast<size_t>(n) * kImageBytes;
      for (int p = 0; p < 1024; ++p)
        for (int c = 0; c < 3; ++c) hwc[p * 3 + c] = planes[c * 1024 + p];
    }
  }
}

void CifarDataset::read(int64_t i, Example& out) const {
  check_index(i);
  const auto* p = pixels_.data() + static_cast<size_t>(i) * kImageBytes;
  out.pixels.assign(p, p + kImageBytes);
  out.height = 32;
  out.width = 32;
  out.channels = 3;
  out.features.clear();
  out.label = labels_[static_cast<size_t>(i)];
}

std::string CifarDataset::source(int64_t i) const {
  size_t f = 0;
  while (f + 1 < file_starts_.size() && file_starts_[f + 1] <= i) ++f;
  return files_[f] + " record " + std::to_string(i - file_starts_[f]);
}

std::string CifarDataset::describe() const {
  std::string s = kind_ == CifarKind::kCifar10 ? "cifar10 " : "cifar100 ";
  s += files_.size() == 1 ? files_[0] : files_[0] + " (+" + std::to_string(files_.size() - 1) + " files)";
  return s + " (" + std::to_string(size()) + " images 32x32x3, " + std::to_string(num_classes_) +
         " classes)";
}

}  // namespace sngan
