#include "core/io/image_io.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "core/io/atomic_file.h"

namespace sngan {

namespace {

// [-1, 1] -> [0, 255], rounded half up, clamped; NaN -> 0.
inline uint8_t to_u8(Scalar x) {
  if (!(x > Scalar(-1))) return 0;
  if (x >= Scalar(1)) return 255;
  return static_cast<uint8_t>(std::floor((static_cast<double>(x) + 1.0) * 127.5 + 0.5));
}

std::string extension_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return ".png";
  return path.substr(dot);
}

}  // namespace

void detail::write_mat_atomic(const std::string& path, const cv::Mat& image) {
  const std::string ext = extension_of(path);
  std::vector<uchar> bytes;
  bool ok = false;
  std::string why;
  try {
    ok = cv::imencode(ext, image, bytes);
  } catch (const cv::Exception& ex) {
    why = ex.what();
  }
  SNGAN_CHECK(ok, "cannot write image '", path, "': expected an extension OpenCV can encode (.png, .jpg, ",
              ".bmp, ...), got '", ext, "'", why.empty() ? "" : ": ", why);
  write_file_atomic(path, bytes.data(), bytes.size());
}

void write_image_grid(const std::string& path, const Tensor& images, int columns, int padding) {
  SNGAN_CHECK(images.defined() && images.ndim() == 4, "cannot write image '", path,
              "': expected images of shape (N, C, H, W), got ",
              images.defined() ? images.shape().str() : std::string("an undefined tensor"));
  const int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  SNGAN_CHECK(n >= 1 && (c == 1 || c == 3) && h >= 1 && w >= 1, "cannot write image '", path,
              "': expected N >= 1 images with C = 1 or 3 channels and H, W >= 1, got shape ",
              images.shape().str());
  SNGAN_CHECK(columns >= 0 && padding >= 0 && padding <= 4096, "cannot write image '", path,
              "': expected columns >= 0 and 0 <= padding <= 4096, got columns ", columns, ", padding ",
              padding);
  const int64_t cols = columns == 0 ? static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))))
                                    : std::min<int64_t>(columns, n);
  const int64_t rows = (n + cols - 1) / cols;
  const int64_t width = cols * (w + padding) + padding, height = rows * (h + padding) + padding;
  SNGAN_CHECK(width <= 32767 && height <= 32767 && width * height <= (int64_t(1) << 28), "cannot write image '",
              path, "': expected a picture of at most 32767 x 32767 and 2^28 pixels, got ", width, " x ",
              height);

  cv::Mat grid = cv::Mat::zeros(static_cast<int>(height), static_cast<int>(width), c == 1 ? CV_8UC1 : CV_8UC3);
  const Scalar* src = images.data();  // (N, C, H, W)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y0 = padding + (i / cols) * (h + padding), x0 = padding + (i % cols) * (w + padding);
    const Scalar* img = src + i * c * h * w;
    for (int64_t y = 0; y < h; ++y) {
      uchar* row = grid.ptr<uchar>(static_cast<int>(y0 + y)) + x0 * c;
      for (int64_t x = 0; x < w; ++x) {
        if (c == 1) {
          row[x] = to_u8(img[y * w + x]);
        } else {  // RGB planes -> interleaved BGR
          for (int64_t ch = 0; ch < 3; ++ch) row[x * 3 + (2 - ch)] = to_u8(img[(ch * h + y) * w + x]);
        }
      }
    }
  }
  detail::write_mat_atomic(path, grid);
}

void write_image(const std::string& path, const Tensor& image) {
  SNGAN_CHECK(image.defined() && (image.ndim() == 3 || (image.ndim() == 4 && image.dim(0) == 1)),
              "cannot write image '", path, "': expected an image of shape (C, H, W) or (1, C, H, W), got ",
              image.defined() ? image.shape().str() : std::string("an undefined tensor"));
  const Tensor batch = image.ndim() == 4 ? image : image.reshape(Shape{1, image.dim(0), image.dim(1), image.dim(2)});
  write_image_grid(path, batch, 1, 0);
}

void write_points_csv(const std::string& path, const Tensor& points) {
  SNGAN_CHECK(points.ndim() == 2 && points.dim(1) == 2, path, ": expected points of shape (N, 2), got ",
              points.shape().str());
  std::string csv = "x,y\n";
  char buf[64];
  for (int64_t i = 0; i < points.dim(0); ++i) {
    std::snprintf(buf, sizeof buf, "%.6g,%.6g\n", points[2 * i], points[2 * i + 1]);
    csv += buf;
  }
  write_file_atomic(path, csv);
}

}  // namespace sngan
