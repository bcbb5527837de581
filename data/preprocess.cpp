#include "data/preprocess.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "core/tensor/check.h"

namespace sngan {

namespace {

// v -> v / 127.5 - 1 (exact ends -1 and 1) and v -> v / 128 - 1, rounded once from double.
struct ScaleTables {
  Scalar unit[256];
  Scalar dequant[256];
  ScaleTables() {
    for (int v = 0; v < 256; ++v) {
      unit[v] = static_cast<Scalar>(v / 127.5 - 1.0);
      dequant[v] = static_cast<Scalar>(v / 128.0 - 1.0);
    }
  }
};
const ScaleTables kTables;

// Output k of a splitmix64 stream started at `base`, without stepping through the others.
inline uint64_t splitmix64_at(uint64_t base, uint64_t k) {
  return splitmix64_mix(base + (k + 1) * kSplitmix64Gamma);
}

// Adds U(0, 1/128) noise to out[0, n) (clamped at 1). A splitmix64 counter stream started
// at `base`: each 64-bit output gives two elements 24 random bits each (finer than float
// resolution near 1).
void add_dequantization_noise(Scalar* out, int64_t n, uint64_t base) {
  const Scalar step = Scalar(1.0 / (128.0 * 16777216.0));  // 2^-31: U(0, 1/128) from 24 bits
  auto add = [&](int64_t k, uint64_t bits) {
    out[k] = std::min(Scalar(1), out[k] + static_cast<Scalar>(static_cast<int32_t>(bits)) * step);
  };
  int64_t k = 0;
  for (; k + 1 < n; k += 2) {
    const uint64_t z = splitmix64_at(base, static_cast<uint64_t>(k));
    add(k, z >> 40);
    add(k + 1, (z >> 8) & 0xffffff);
  }
  if (k < n) add(k, splitmix64_at(base, static_cast<uint64_t>(k)) >> 40);
}

std::string size_str(int h, int w) { return std::to_string(h) + "x" + std::to_string(w); }

void check_one(const ImageDims& d, const PreprocessConfig& cfg, const std::string& source) {
  const int s = cfg.image_size;
  SNGAN_CHECK(d.channels == 1 || d.channels == 3, source,
              ": expected an image with 1 (grey) or 3 (RGB) channels, got ", d.channels);
  SNGAN_CHECK(d.height > 0 && d.width > 0, source, ": expected a non-empty image, got ",
              size_str(d.height, d.width));
  if (cfg.fit == "pad")
    SNGAN_CHECK(d.height <= s && d.width <= s, source, ": expected an image of at most ",
                size_str(s, s), " to pad to ", size_str(s, s), ", got ", size_str(d.height, d.width),
                " (use fit 'resize' or 'crop' to shrink)");
}

}  // namespace

void validate(const PreprocessConfig& cfg) {
  SNGAN_CHECK(cfg.image_size >= 1 && cfg.image_size <= 4096,
              "preprocess: expected image_size in [1, 4096], got ", cfg.image_size);
  SNGAN_CHECK(cfg.channels == 1 || cfg.channels == 3, "preprocess: expected channels 1 or 3, got ",
              cfg.channels);
  SNGAN_CHECK(cfg.fit == "pad" || cfg.fit == "resize" || cfg.fit == "crop",
              "preprocess: expected fit 'pad', 'resize' or 'crop', got '", cfg.fit, "'");
}

void check_fits(const Dataset& dataset, const PreprocessConfig& cfg) {
  validate(cfg);
  if (dataset.feature_dim() > 0 || dataset.size() == 0) return;
  const int64_t n = dataset.fixed_dims() ? 1 : dataset.size();
  for (int64_t i = 0; i < n; ++i) check_one(dataset.dims(i), cfg, dataset.source(i));
}

void preprocess_image(const Example& ex, const PreprocessConfig& cfg, Rng& rng, Scalar* out,
                      PreprocessScratch& scratch) {
  const int s = cfg.image_size;
  const int oc = cfg.channels;
  int h = ex.height, w = ex.width, c = ex.channels;
  SNGAN_DEBUG_ASSERT(ex.pixels.size() == static_cast<size_t>(h) * w * c);
  const uint8_t* img = ex.pixels.data();  // (h, w, c)

  // 1. RGB -> grey before any resampling (cheaper, and exact on the uint8 grid).
  if (c == 3 && oc == 1) {
    scratch.grey.resize(static_cast<size_t>(h) * w);
    for (size_t p = 0; p < scratch.grey.size(); ++p) {
      const uint8_t* q = img + 3 * p;
      scratch.grey[p] = static_cast<uint8_t>((299 * q[0] + 587 * q[1] + 114 * q[2] + 500) / 1000);
    }
    img = scratch.grey.data();
    c = 1;
  }

  // 2. Fit: resample to s x s (resize, crop), or place at an offset (pad).
  int oy = 0, ox = 0;
  if (h != s || w != s) {
    if (cfg.fit == "pad") {
      SNGAN_CHECK(h <= s && w <= s, "expected an image of at most ", size_str(s, s), " to pad, got ",
                  size_str(h, w));
      oy = (s - h) / 2;
      ox = (s - w) / 2;
    } else {
      cv::Mat src(h, w, CV_8UC(c), const_cast<uint8_t*>(img));
      if (cfg.fit == "crop") {
        const int side = std::min(h, w);
        src = src(cv::Rect((w - side) / 2, (h - side) / 2, side, side));
      }
      scratch.resized.resize(static_cast<size_t>(s) * s * c);
      cv::Mat dst(s, s, CV_8UC(c), scratch.resized.data());
      const bool shrink = s <= src.rows && s <= src.cols;
      if (src.rows == s && src.cols == s) src.copyTo(dst);
      else cv::resize(src, dst, cv::Size(s, s), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
      img = scratch.resized.data();
      h = w = s;
    }
  }

  // 3-4. Scale to [-1, 1], mirror, pad with -1 (black).
  const bool flip = cfg.random_flip && rng.uniform() < 0.5;
  const Scalar* table = cfg.dequantize ? kTables.dequant : kTables.unit;
  const bool full = h == s && w == s;
  for (int ch = 0; ch < oc; ++ch) {
    const int sc = c == 1 ? 0 : ch;
    for (int y = 0; y < s; ++y) {
      Scalar* row = out + (static_cast<int64_t>(ch) * s + y) * s;  // (S)
      const int iy = y - oy;
      if (!full) std::fill(row, row + s, Scalar(-1));
      if (iy < 0 || iy >= h) continue;
      const uint8_t* src = img + static_cast<int64_t>(iy) * w * c + sc;
      if (flip) {
        Scalar* dst = row + (s - 1 - ox);
        for (int x = 0; x < w; ++x) dst[-x] = table[src[x * c]];
      } else {
        Scalar* dst = row + ox;
        for (int x = 0; x < w; ++x) dst[x] = table[src[x * c]];
      }
    }
  }
  // One draw from rng seeds the noise's counter stream.
  if (cfg.dequantize) add_dequantization_noise(out, static_cast<int64_t>(oc) * s * s, rng.next_u64());
}

}  // namespace sngan
