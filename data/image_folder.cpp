#include "data/image_folder.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "core/tensor/check.h"

namespace sngan {

namespace fs = std::filesystem;

namespace {

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Decodes one file to RGB or grey uint8; returns an empty string or the reason it failed.
std::string decode(const std::string& path, cv::Mat& rgb) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (m.empty()) return "data OpenCV cannot decode as an image";
  if (m.depth() == CV_16U) {
    m.convertTo(m, CV_8U, 1.0 / 257.0);
  } else if (m.depth() != CV_8U) {
    return "an image of unsupported pixel depth (OpenCV depth " + std::to_string(m.depth()) + ")";
  }
  switch (m.channels()) {
    case 1: rgb = m; break;
    case 2: cv::extractChannel(m, rgb, 0); break;
    case 3: cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(m, rgb, cv::COLOR_BGRA2RGB); break;
    default: return "an image with " + std::to_string(m.channels()) + " channels";
  }
  if (!rgb.isContinuous()) rgb = rgb.clone();
  return "";
}

}  // namespace

ImageFolderDataset::ImageFolderDataset(const std::string& root) : root_(root) {
  std::error_code ec;
  const fs::file_status st = fs::status(root, ec);
  SNGAN_CHECK(fs::exists(st), root, ": expected an image folder, got no such file or directory");
  SNGAN_CHECK(fs::is_directory(st), root, ": expected an image folder, got a file");

  std::vector<std::pair<std::string, std::string>> found;  // (path, class name or "")
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  SNGAN_CHECK(!ec, root, ": expected a readable image folder, got ", ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    SNGAN_CHECK(!ec, root, ": expected a readable image folder, got ", ec.message());
    if (!it->is_regular_file(ec) || !is_image_name(it->path())) continue;
    const fs::path rel = it->path().lexically_relative(root);
    const std::string cls = std::distance(rel.begin(), rel.end()) > 1 ? rel.begin()->string() : "";
    found.emplace_back(it->path().string(), cls);
  }
  SNGAN_CHECK(!found.empty(), root,
              ": expected at least one PNG or JPEG image in the folder or its subfolders, got none");
  std::sort(found.begin(), found.end());

  std::map<std::string, int> class_index;
  for (const auto& f : found)
    if (!f.second.empty()) class_index.emplace(f.second, 0);
  for (auto& [name, index] : class_index) {
    index = static_cast<int>(class_names_.size());
    class_names_.push_back(name);
  }
  const size_t n = found.size();
  files_.resize(n);
  labels_.resize(n);
  dims_.resize(n);
  pixels_.resize(n);
  std::vector<std::string> errors(n);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    const size_t k = static_cast<size_t>(i);
    files_[k] = found[k].first;
    labels_[k] = found[k].second.empty() ? -1 : class_index.at(found[k].second);
    cv::Mat rgb;
    errors[k] = decode(files_[k], rgb);
    if (!errors[k].empty()) continue;
    dims_[k] = {rgb.rows, rgb.cols, rgb.channels()};
    pixels_[k].assign(rgb.data, rgb.data + rgb.total() * rgb.elemSize());
  }
  for (size_t k = 0; k < n; ++k)
    SNGAN_CHECK(errors[k].empty(), files_[k], ": expected a PNG or JPEG image OpenCV can decode, got ",
                errors[k]);
}

void ImageFolderDataset::read(int64_t i, Example& out) const {
  check_index(i);
  const size_t k = static_cast<size_t>(i);
  out.pixels = pixels_[k];
  out.height = dims_[k].height;
  out.width = dims_[k].width;
  out.channels = dims_[k].channels;
  out.features.clear();
  out.label = labels_[k];
}

ImageDims ImageFolderDataset::dims(int64_t i) const {
  check_index(i);
  return dims_[static_cast<size_t>(i)];
}

std::string ImageFolderDataset::source(int64_t i) const {
  check_index(i);
  return files_[static_cast<size_t>(i)];
}

std::string ImageFolderDataset::describe() const {
  return "folder " + root_ + " (" + std::to_string(files_.size()) + " images, " +
         std::to_string(class_names_.size()) + " classes)";
}

}  // namespace sngan
