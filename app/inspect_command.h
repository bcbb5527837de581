// `sngan inspect --checkpoint CKPT --spectra`: the singular values of each of D's weights in
// the matrix form the normalizations see (out x in*kh*kw), for Figure 3 of Miyato et al. 2018
// (squared singular values of each layer, scaled so the largest is 1).
//
// The weight is the one D computes with: for spectral norm W / sigma, sigma = u^T W v from the
// stored power-iteration vectors (as in evaluation mode); for weight norm each row divided by
// its norm; for every other method the raw weight. Parameters with fewer than two dimensions
// (biases, BN/LN gains) are not layers and are skipped.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/gan/config.h"
#include "core/tensor/tensor.h"

namespace sngan {

struct InspectOptions {
  std::string checkpoint;
  bool spectra = false;
  std::string out;  // CSV path; empty: print to stdout
};

struct LayerSpectrum {
  std::string layer;          // parameter path without ".weight", e.g. "convs.0"
  int64_t rows = 0, cols = 0;  // the matrix form
  std::vector<double> singular_values;  // descending
};

// Spectra of the discriminator weights ("discriminator.*.weight", >= 2-d) in `tensors`, in
// name order. Throws sngan::Error naming `source` when there is no such weight, or when a
// spectral-norm layer's u, v are missing or do not match its weight.
std::vector<LayerSpectrum> discriminator_spectra(const std::map<std::string, Tensor>& tensors,
                                                 DNormalization normalization, const std::string& source);

int run_inspect(const InspectOptions& options);

}  // namespace sngan
