// The FID Inception-v3: the network behind the Inception score and FID of Miyato et al. 2018
// (Sec. 4.1), i.e. the 2015-12-05 TensorFlow Inception graph, as pytorch-fid ports it
// (pytorch_fid/inception.py, fid_inception_v3()): torchvision's Inception3 with 1008 classes,
// no auxiliary head, and FID variants of the Mixed blocks (TensorFlow's average pool, which
// leaves padding out of the divisor; a max pool in Mixed_7c's pool branch). Built from the
// project's ops, evaluation mode only.
//
// embed(): images (N, C, H, W) in [-1, 1], C = 1 (repeated to 3 channels) or 3. Each image is
// resized to 299x299 with bilinear interpolation (align_corners=False, as pytorch-fid's
// F.interpolate) unless it is already that size; pytorch-fid's normalize_input maps [0, 1] to
// [-1, 1], the range our images are in already, so they enter the network as they are.
// features (N, 2048): pool3, the global average pool after Mixed_7c (FID, KID,
// precision/recall). logits (N, 1008): fc(pool3), whose softmax the Inception score uses.
// Images go through the network `batch` at a time, so memory stays bounded whatever N is:
// peak memory grows by about 23 MB per image of `batch` (activations and the allocation
// pool's cached blocks, measured with tests/bench/inception_bench), on top of the 95 MB of
// weights. The batch size does not change the speed at one thread.
//
// Weights: pytorch-fid's published file converted to safetensors by
// scripts/download_inception.sh (tensor names as pytorch-fid's state_dict, without
// num_batches_tracked). Batch norm (eps 0.001) is folded into the conv weights at load time
// unless InceptionOptions::fold_batch_norm is off.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/metrics/feature_extractor.h"

namespace sngan {

struct InceptionOptions {
  int64_t batch = 8;             // images per forward pass
  bool fold_batch_norm = true;   // false: conv, batch_norm, relu as separate ops (for tests)
};

inline constexpr int64_t kInceptionInputSize = 299;
inline constexpr int64_t kInceptionFeatureDim = 2048;
inline constexpr int64_t kInceptionClasses = 1008;

// Loads the weights from a safetensors file. Throws sngan::Error naming the file for a
// missing or unreadable file, and naming the tensor for a missing, misshapen or unexpected one.
std::unique_ptr<FeatureExtractor> load_inception_v3(const std::string& safetensors_path);
std::unique_ptr<FeatureExtractor> load_inception_v3(const std::string& safetensors_path,
                                                    const InceptionOptions& options);

// The same from tensors in memory; `source` names them in errors.
std::unique_ptr<FeatureExtractor> make_inception_v3(const std::map<std::string, Tensor>& tensors,
                                                    const std::string& source,
                                                    const InceptionOptions& options = {});

// (name, shape) of every tensor the network takes, in pytorch-fid's state_dict order.
std::vector<std::pair<std::string, Shape>> inception_v3_tensor_shapes();

}  // namespace sngan
