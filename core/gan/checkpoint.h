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

}  // namespace sngan
