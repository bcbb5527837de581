// Preprocessing: scaling to [-1, 1], pad / resize / crop, channel conversion, dequantisation
// noise and flips.
#include <gtest/gtest.h>

#include <cmath>

#include "data/preprocess.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

Example image(int h, int w, int c, const std::function<int(int, int, int)>& f) {
  Example e;
  e.height = h;
  e.width = w;
  e.channels = c;
  e.pixels.resize(static_cast<size_t>(h) * w * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) e.pixels[(y * w + x) * c + ch] = static_cast<uint8_t>(f(y, x, ch));
  return e;
}

std::vector<Scalar> run(const Example& e, const PreprocessConfig& cfg, uint64_t seed = 1) {
  std::vector<Scalar> out(static_cast<size_t>(cfg.channels) * cfg.image_size * cfg.image_size, 99);
  Rng rng(seed);
  PreprocessScratch scratch;
  preprocess_image(e, cfg, rng, out.data(), scratch);
  return out;
}

// The exact model input for pixel value v (no dequantisation).
Scalar unit(int v) { return static_cast<Scalar>(v / 127.5 - 1.0); }

Scalar at(const std::vector<Scalar>& v, int s, int c, int y, int x) { return v[(c * s + y) * s + x]; }

TEST(Preprocess, PadsMnistSizeTo32AndScalesExactly) {
  const Example e = image(28, 28, 1, [](int y, int x, int) { return (y * 28 + x) % 256; });
  PreprocessConfig cfg;
  cfg.image_size = 32;
  cfg.channels = 1;
  const auto out = run(e, cfg);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) {
      const bool inside = y >= 2 && y < 30 && x >= 2 && x < 30;
      const float want = inside ? unit(((y - 2) * 28 + (x - 2)) % 256) : -1.0f;
      ASSERT_EQ(at(out, 32, 0, y, x), want) << y << " " << x;
    }
  const Example extremes = image(1, 2, 1, [](int, int x, int) { return x ? 255 : 0; });
  cfg.image_size = 2;
  const auto ends = run(extremes, cfg);
  EXPECT_EQ(ends[0], -1.0f);
  EXPECT_EQ(ends[1], 1.0f);
}

TEST(Preprocess, OddPaddingPutsExtraPixelBottomRight) {
  const Example e = image(2, 2, 1, [](int, int, int) { return 255; });
  PreprocessConfig cfg;
  cfg.image_size = 5;
  cfg.channels = 1;
  const auto out = run(e, cfg);
  EXPECT_EQ(at(out, 5, 0, 1, 1), 1.0f);
  EXPECT_EQ(at(out, 5, 0, 2, 2), 1.0f);
  EXPECT_EQ(at(out, 5, 0, 0, 0), -1.0f);
  EXPECT_EQ(at(out, 5, 0, 3, 3), -1.0f);
}

TEST(Preprocess, GreyToRgbReplicatesAndRgbToGreyIsLuma) {
  const Example g = image(3, 3, 1, [](int y, int x, int) { return 20 * y + x; });
  PreprocessConfig rgb;
  rgb.image_size = 3;
  rgb.channels = 3;
  const auto o = run(g, rgb);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(at(o, 3, c, 2, 1), unit(41));
  const Example colour = image(1, 1, 3, [](int, int, int c) { return c == 0 ? 200 : c == 1 ? 100 : 50; });
  PreprocessConfig grey;
  grey.image_size = 1;
  grey.channels = 1;
  const int luma = (299 * 200 + 587 * 100 + 114 * 50 + 500) / 1000;  // 124
  EXPECT_EQ(run(colour, grey)[0], unit(luma));
}

TEST(Preprocess, ResizeUsesAreaDownAndBilinearUp) {
  // 96x96 in 3x3 blocks whose only bright pixel is the block's last: shrinking 3x, area
  // averaging gives base + 27/9; bilinear (the block centre) and nearest (a corner) give base.
  const Example big = image(96, 96, 3, [](int y, int x, int c) {
    return (y / 3 * 5 + x / 3 * 3 + c * 40) % 200 + (y % 3 == 2 && x % 3 == 2 ? 27 : 0);
  });
  PreprocessConfig cfg;
  cfg.image_size = 32;
  cfg.fit = "resize";
  const auto down = run(big, cfg);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        ASSERT_EQ(at(down, 32, c, y, x), unit((y * 5 + x * 3 + c * 40) % 200 + 3)) << c << " " << y << " " << x;
  // Up 4x: a ramp 30*x is sampled at x' = (X + 0.5) / 4 - 0.5, linearly interpolated (nearest
  // would repeat each value 4 times; up to 15 apart from the line).
  const Example small = image(8, 8, 1, [](int, int x, int) { return 30 * x; });
  cfg.channels = 1;
  const auto up = run(small, cfg);
  for (int X = 2; X < 30; ++X) {
    const double expected = 30 * ((X + 0.5) / 4 - 0.5);
    EXPECT_NEAR(at(up, 32, 0, 5, X), expected / 127.5 - 1, 1.01 / 127.5) << X;  // 1 grey level
  }
  EXPECT_FLOAT_EQ(at(up, 32, 0, 0, 0), -1.0f);
  EXPECT_EQ(at(up, 32, 0, 31, 31), unit(210));
  EXPECT_FLOAT_EQ(at(up, 32, 0, 0, 0), at(up, 32, 0, 31, 0));
}

TEST(Preprocess, CropTakesTheCentreSquare) {
  const Example wide = image(4, 10, 1, [](int y, int x, int) { return y * 10 + x; });
  PreprocessConfig cfg;
  cfg.image_size = 4;
  cfg.channels = 1;
  cfg.fit = "crop";
  const auto out = run(wide, cfg);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) ASSERT_EQ(at(out, 4, 0, y, x), unit(y * 10 + x + 3));
}

TEST(Preprocess, DequantisationNoiseIsUniformWithinOneStep) {
  const Example e = image(32, 32, 3, [](int y, int x, int c) { return (y * 32 + x + c) % 256; });
  PreprocessConfig cfg;
  cfg.dequantize = true;
  const auto out = run(e, cfg);
  double mean_noise = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const double base = ((y * 32 + x + c) % 256) / 128.0 - 1.0;
        const double v = at(out, 32, c, y, x);
        ASSERT_GE(v, base - 1e-6);
        ASSERT_LT(v, base + 1.0 / 128 + 1e-6);
        ASSERT_GE(v, -1.0);
        ASSERT_LE(v, 1.0);
        mean_noise += v - base;
      }
  EXPECT_NEAR(mean_noise / 3072 * 128, 0.5, 0.03);
  EXPECT_NE(run(e, cfg, 1), run(e, cfg, 2));
  EXPECT_EQ(run(e, cfg, 3), run(e, cfg, 3));
}

TEST(Preprocess, RandomFlipMirrorsHalfTheTime) {
  const Example e = image(6, 6, 3, [](int y, int x, int c) { return y * 40 + x * 6 + c; });
  PreprocessConfig cfg;
  cfg.image_size = 8;  // padded too: the flip applies to the padded canvas
  const auto plain = run(e, cfg);
  cfg.random_flip = true;
  int flipped = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto out = run(e, cfg, seed);
    if (out == plain) continue;
    ++flipped;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x) ASSERT_EQ(at(out, 8, c, y, x), at(plain, 8, c, y, 7 - x));
  }
  EXPECT_GT(flipped, 70);
  EXPECT_LT(flipped, 130);
}

TEST(Preprocess, ConfigAndFitErrors) {
  PreprocessConfig cfg;
  cfg.channels = 2;
  testing::expect_error([&] { validate(cfg); }, {"channels 1 or 3", "got 2"});
  cfg.channels = 3;
  cfg.fit = "stretch";
  testing::expect_error([&] { validate(cfg); }, {"'stretch'"});
  cfg.fit = "pad";
  testing::MemoryDataset big(3, 96, 96, 3);
  testing::expect_error([&] { check_fits(big, cfg); }, {"memory example 0", "at most 32x32", "got 96x96"});
  cfg.fit = "resize";
  check_fits(big, cfg);
}

}  // namespace
}  // namespace sngan
