// Training checkpoints: the Trainer's whole state (G, D, EMA-G, spectral-norm u/v, BN
// statistics, both Adam states, iteration, RNG stream) in one safetensors file, plus caller
// metadata (the resolved config, the loader position). Written atomically; refused when any
// tensor holds a non-finite value, so a diverged run never overwrites a good checkpoint.
#pragma once

#include <map>
#include <string>

#include "core/gan/trainer.h"
#include "core/io/safetensors.h"

namespace sngan {

void save_checkpoint(const std::string& path, const Trainer& trainer,
                     const std::map<std::string, std::string>& extra_metadata);

// Restores `trainer` from `path`; returns the file's metadata. Throws sngan::Error naming the
// path when the file is unreadable, damaged, or from another model.
std::map<std::string, std::string> load_checkpoint(const std::string& path, Trainer& trainer);

// The generator alone from a checkpoint's tensors (no discriminator, no optimizer state):
// "generator.*", or "generator_ema.*" when `ema`, built from `config` and returned in
// evaluation mode. Throws sngan::Error naming `source` and the first tensor that is missing
// or has another shape; for `ema`, says so when the run kept no moving average.
std::shared_ptr<Generator> load_generator(const TensorFile& file, const GeneratorConfig& config, bool ema,
                                          const std::string& source);

}  // namespace sngan
