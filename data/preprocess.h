// Preprocessing of one image example to the model's input: float (C, S, S) in [-1, 1].
//
// Steps, in order:
//  1. channels: grey -> RGB replicates the plane; RGB -> grey is the BT.601 luma
//     (299 R + 587 G + 114 B) / 1000, rounded to uint8.
//  2. fit to S x S (only when the image is not already S x S):
//     "pad"    centre the image on a black canvas (28 -> 32 puts 2 pixels each side; an odd
//              difference puts the extra pixel bottom/right). Images larger than S in either
//              dimension cannot be padded: check_fits() rejects them.
//     "resize" scale to S x S (aspect not kept): INTER_AREA when shrinking both sides,
//              bilinear otherwise.
//     "crop"   centre-crop the largest square, then resize it as above.
//  3. scale: v / 127.5 - 1, exactly [-1, 1]. With dequantize, as in the official SN-GAN
//     CIFAR code: v / 128 - 1 + U(0, 1/128), which also stays within [-1, 1].
//  4. random_flip: mirror left-right with probability 1/2.
// Randomness comes from the Rng passed in, so the caller decides the stream: one uniform()
// for the flip, then one next_u64() that seeds the noise (a splitmix64 counter stream, 24
// random bits per output element in CHW order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"
#include "data/dataset.h"

namespace sngan {

struct PreprocessConfig {
  int image_size = 32;      // S: output is (channels, S, S)
  int channels = 3;         // 1 or 3
  std::string fit = "pad";  // "pad" | "resize" | "crop"
  bool dequantize = false;  // add U(0, 1/128) (with the v/128 - 1 scaling)
  bool random_flip = false;
};

// Throws unless image_size in [1, 4096], channels 1 or 3 and fit is a known mode.
void validate(const PreprocessConfig& cfg);

// Throws unless every example of an image dataset can be brought to cfg; the message names
// the example's source (file, or file and record), the expected and the found size.
// Feature datasets (toy 2D) always fit. Checks dims(0) only when dataset.fixed_dims().
void check_fits(const Dataset& dataset, const PreprocessConfig& cfg);

// Reusable buffers for preprocess_image (one per thread).
struct PreprocessScratch {
  std::vector<uint8_t> grey;     // (H, W, 1)
  std::vector<uint8_t> resized;  // (S, S, C)
};

// Writes example ex into out, a buffer of cfg.channels * S * S values (C, S, S); assigns.
// ex must fit (see check_fits); rng is drawn from only if dequantize or random_flip.
void preprocess_image(const Example& ex, const PreprocessConfig& cfg, Rng& rng, Scalar* out,
                      PreprocessScratch& scratch);

}  // namespace sngan
