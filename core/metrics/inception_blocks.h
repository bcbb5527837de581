// The building blocks of the FID Inception-v3 (inception.h): torchvision's BasicConv2d and
// Inception blocks A-E with pytorch-fid's FID patches, built from the project's ops. Every
// block takes its tensors from a WeightSource by pytorch-fid's state_dict names
// ("Mixed_6b.branch7x7_2.conv.weight") and runs forward only (the caller holds a NoGradGuard).
// Shapes in comments are per image at the 299x299 input.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor/ops.h"

namespace sngan::inception {

// Hands out the network's tensors by name, checking each shape; errors name `source` (the
// weight file) and the tensor. Without tensors (recorder()) it hands out zeros and only records
// the names and shapes asked for: the list of tensors the network expects.
class WeightSource {
 public:
  WeightSource(const std::map<std::string, Tensor>& tensors, std::string source);
  static WeightSource recorder();

  // The tensor `name` of shape `shape`; throws sngan::Error "<source>: ..." when it is missing
  // or has another shape.
  Tensor take(const std::string& name, const Shape& shape);
  // Throws naming the first tensor of the source that no block took (a file for another
  // network, e.g. torchvision's Inception with its AuxLogits).
  void check_all_taken() const;
  // (name, shape) of every tensor taken, in the order taken (= pytorch-fid's state_dict order).
  const std::vector<std::pair<std::string, Shape>>& taken() const { return taken_; }

 private:
  WeightSource() = default;
  const std::map<std::string, Tensor>* tensors_ = nullptr;
  std::string source_;
  std::vector<std::pair<std::string, Shape>> taken_;
};

// relu(batch_norm(conv2d(x, w), running stats, eps 0.001)): torchvision's BasicConv2d in eval
// mode. With fold_batch_norm the normalisation is folded into the conv at load time
// (w' = w * s, b' = beta - mean * s with s = gamma / sqrt(var + eps), in double) and the layer
// is one fused conv + relu; otherwise it runs conv, batch_norm and relu as three ops (the
// unfolded form, kept to test the folding).
class BasicConv {
 public:
  struct Geometry {
    int64_t cin, cout, kh, kw;
    int64_t stride = 1, pad_h = 0, pad_w = 0;
  };
  BasicConv() = default;
  BasicConv(WeightSource& src, const std::string& name, const Geometry& g, bool fold_batch_norm);
  Var operator()(const Var& x) const;

 private:
  Var weight_, bias_;              // (cout, cin, kh, kw); bias (cout) when folded
  Var gamma_, beta_;               // (cout), unfolded only
  mutable Tensor mean_, var_;      // (cout), unfolded only (batch_norm takes non-const pointers)
  Conv2dOptions options_;
};

// Mixed_5b..5d (FIDInceptionA): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | TensorFlow's 3x3
// average pool -> 1x1; (cin, 35, 35) -> (224 + pool_features, 35, 35).
class BlockA {
 public:
  BlockA() = default;
  BlockA(WeightSource& src, const std::string& name, int64_t cin, int64_t pool_features, bool fold);
  Var operator()(const Var& x) const;

 private:
  BasicConv b1x1_, b5x5_1_, b5x5_2_, b3dbl_1_, b3dbl_2_, b3dbl_3_, pool_;
};

// Mixed_6a (InceptionB): 3x3 stride 2 | 1x1 -> 3x3 -> 3x3 stride 2 | 3x3 stride-2 max pool;
// (288, 35, 35) -> (768, 17, 17).
class BlockB {
 public:
  BlockB() = default;
  BlockB(WeightSource& src, const std::string& name, int64_t cin, bool fold);
  Var operator()(const Var& x) const;

 private:
  BasicConv b3x3_, b3dbl_1_, b3dbl_2_, b3dbl_3_;
};

// Mixed_6b..6e (FIDInceptionC): 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 |
// TensorFlow's average pool -> 1x1; (768, 17, 17) -> (768, 17, 17).
class BlockC {
 public:
  BlockC() = default;
  BlockC(WeightSource& src, const std::string& name, int64_t cin, int64_t c7, bool fold);
  Var operator()(const Var& x) const;

 private:
  BasicConv b1x1_, b7_1_, b7_2_, b7_3_, b7dbl_[5], pool_;
};

// Mixed_7a (InceptionD): 1x1 -> 3x3 stride 2 | 1x1 -> 1x7 -> 7x1 -> 3x3 stride 2 | 3x3
// stride-2 max pool; (768, 17, 17) -> (1280, 8, 8).
class BlockD {
 public:
  BlockD() = default;
  BlockD(WeightSource& src, const std::string& name, int64_t cin, bool fold);
  Var operator()(const Var& x) const;

 private:
  BasicConv b3_1_, b3_2_, b7_1_, b7_2_, b7_3_, b7_4_;
};

// Mixed_7b (FIDInceptionE_1, TensorFlow's average pool) and Mixed_7c (FIDInceptionE_2, a 3x3
// stride-1 max pool: the TF graph's, which pytorch-fid keeps): 1x1 | 1x1 -> (1x3, 3x1) |
// 1x1 -> 3x3 -> (1x3, 3x1) | pool -> 1x1; (cin, 8, 8) -> (2048, 8, 8).
class BlockE {
 public:
  enum class Pool { kAverage, kMax };
  BlockE() = default;
  BlockE(WeightSource& src, const std::string& name, int64_t cin, Pool pool, bool fold);
  Var operator()(const Var& x) const;

 private:
  BasicConv b1x1_, b3_1_, b3_2a_, b3_2b_, b3dbl_1_, b3dbl_2_, b3dbl_3a_, b3dbl_3b_, pool_conv_;
  Pool pool_ = Pool::kAverage;
};

}  // namespace sngan::inception
