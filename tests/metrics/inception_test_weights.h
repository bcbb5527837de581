// Deterministic Inception-v3 weights and input images for the tests and the benchmark: the C++
// twin of the formula in tests/metrics/make_inception_reference.py (whose docstring states it),
// so the two sides build the same network without a weight file.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "core/metrics/inception.h"

namespace sngan::inception_test {

inline constexpr int kInceptionFormulaVersion = 1;

inline uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// v in [-1, 1) for element i of the tensor called `name` (exact in float32).
inline double formula_uniform(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 40) / double(1 << 24) * 2.0 - 1.0;
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The tensor `name` of `shape` from the formula (scales by the name's ending).
inline Tensor formula_tensor(const std::string& name, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  const uint64_t seed = fnv1a64(name);
  double scale = 1, offset = 0;
  if (ends_with(name, "conv.weight")) {
    scale = std::sqrt(6.0 / double(shape[1] * shape[2] * shape[3]));
  } else if (ends_with(name, "bn.weight")) {
    offset = 1, scale = 0.25;
  } else if (ends_with(name, "bn.running_var")) {
    offset = 1, scale = 0.5;
  } else if (ends_with(name, "bn.bias") || ends_with(name, "bn.running_mean") ||
             ends_with(name, "fc.bias")) {
    scale = 0.1;
  } else if (name == "fc.weight") {
    scale = std::sqrt(3.0 / 2048);
  } else {
    SNGAN_CHECK(false, "no formula for tensor ", name);
  }
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i)
    t[i] = static_cast<Scalar>(offset + formula_uniform(seed, static_cast<uint64_t>(i)) * scale);
  return t;
}

// Every tensor the FID Inception-v3 takes, from the formula.
inline std::map<std::string, Tensor> formula_inception_weights() {
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, shape] : inception_v3_tensor_shapes()) tensors[name] = formula_tensor(name, shape);
  return tensors;
}

// The input images of reference case `name`: v in [-1, 1) with the name "input/<name>".
inline Tensor formula_images(const std::string& name, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  const uint64_t seed = fnv1a64("input/" + name);
  for (int64_t i = 0; i < t.numel(); ++i)
    t[i] = static_cast<Scalar>(formula_uniform(seed, static_cast<uint64_t>(i)));
  return t;
}

}  // namespace sngan::inception_test
