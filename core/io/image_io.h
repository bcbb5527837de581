// Image files for samples: one image, or a grid of a batch (torchvision's make_grid +
// save_image). Values in [-1, 1] map to [0, 255] as round((x + 1) * 127.5), clamped; NaN
// becomes 0. The format comes from the path's extension (.png, .jpg, .bmp, ...; PNG when there
// is none). Files are encoded in memory and written atomically (write_file_atomic). Every
// error throws sngan::Error naming the path.
#pragma once

#include <string>

#include "core/tensor/tensor.h"

namespace cv {
class Mat;
}

namespace sngan {

// images: (N, C, H, W), C = 1 (grey) or 3 (RGB), N >= 1. Images are laid out row by row,
// `columns` per row (0 = ceil(sqrt(N)); more than N = N), with `padding` black pixels between
// images and around the border: the picture is
//   columns * (W + padding) + padding  wide  and  rows * (H + padding) + padding  high,
// rows = ceil(N / columns). Image n sits at row n / columns, column n % columns.
void write_image_grid(const std::string& path, const Tensor& images, int columns = 0, int padding = 2);

// image: (C, H, W) or (1, C, H, W), C = 1 or 3; written without padding.
void write_image(const std::string& path, const Tensor& image);

// points: (N, 2), the toy 2D sets' samples; written as a CSV with header "x,y", atomically.
void write_points_csv(const std::string& path, const Tensor& points);

namespace detail {
// Encodes an 8-bit OpenCV image (1 channel, or 3 in BGR order) by the extension of path and
// writes it atomically; shared by image_io.cpp and plot.cpp. Throws sngan::Error naming path.
void write_mat_atomic(const std::string& path, const cv::Mat& image);
}  // namespace detail

}  // namespace sngan
