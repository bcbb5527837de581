// libFuzzer target: checkpoints (core/io/safetensors.h parse_safetensors, then
// Trainer::load_state as `sngan sample` and `--resume` do).
//
// Input: the bytes of a .safetensors file. A parse either succeeds or throws sngan::Error;
// when it succeeds, loading into a tiny trainer (the model of the seed corpus written by
// scripts/fuzz.sh) must also succeed or throw sngan::Error, and parsed tensors must have
// exactly the bytes the header announced.
#include <cstdint>
#include <memory>
#include <string>

#include "core/gan/trainer.h"
#include "core/io/safetensors.h"
#include "core/tensor/check.h"

namespace {

// The tiny model of tests/cli/cli_util.h's tiny_config (16x16 grey, G base 16, narrow D),
// which is also the model of the checkpoint scripts/fuzz.sh puts in the seed corpus.
sngan::Trainer& tiny_trainer() {
  static std::unique_ptr<sngan::Trainer> trainer = [] {
    sngan::TrainConfig t;
    t.batch_size = t.g_batch_size = 8;
    t.ema_decay = 0.9;
    t.seed = 3;
    sngan::GeneratorConfig g;
    g.image_size = 16;
    g.channels = 1;
    g.base_channels = 16;
    sngan::DiscriminatorConfig d;
    d.image_size = 16;
    d.channels = 1;
    d.conv_channels = {4, 4, 8, 8, 8, 8, 16};
    return std::make_unique<sngan::Trainer>(t, g, d);
  }();
  return *trainer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sngan::TensorFile file;
  try {
    file = sngan::parse_safetensors(data, size, "fuzz.safetensors");
  } catch (const sngan::Error&) {
    return 0;
  }
  uint64_t bytes = 0;
  for (const auto& [name, t] : file.tensors) bytes += static_cast<uint64_t>(t.numel()) * 4;
  if (bytes > size) __builtin_trap();  // more tensor data than input: impossible if validated
  try {
    tiny_trainer().load_state(file.tensors, file.metadata, "fuzz.safetensors");
  } catch (const sngan::Error&) {
  }
  return 0;
}
