// libFuzzer target: checkpoints (core/io/safetensors.h parse_safetensors, then
// Trainer::load_state as `sngan sample` and `--resume` do).
//
// Input: the bytes of a .safetensors file. A parse either succeeds or throws sngan::Error;
// when it succeeds, loading into a tiny trainer (the model of the seed corpus written by
// scripts/fuzz.sh) must also succeed or throw sngan::Error, and parsed tensors must have
// exactly the bytes the header announced. A "loader.position" entry is parsed and restored
// into a data loader, which then delivers a batch, as --resume does (or throws sngan::Error).
#include <cstdint>
#include <memory>
#include <string>

#include "core/gan/trainer.h"
#include "core/io/safetensors.h"
#include "core/tensor/check.h"
#include "data/loader.h"
#include "data/toy2d.h"

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

// A loader over 64 toy points in batches of 8, no prefetch thread.
sngan::Loader& tiny_loader() {
  static std::unique_ptr<sngan::Loader> loader = [] {
    sngan::Toy2DConfig toy;
    toy.size = 64;
    sngan::LoaderConfig c;
    c.batch_size = 8;
    c.prefetch = 0;
    return std::make_unique<sngan::Loader>(std::make_shared<sngan::Toy2DDataset>(toy), c,
                                           sngan::PreprocessConfig{});
  }();
  return *loader;
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
  auto position = file.metadata.find("loader.position");
  if (position != file.metadata.end()) {
    try {
      tiny_loader().restore(sngan::LoaderPosition::parse(position->second));
      tiny_loader().next();
    } catch (const sngan::Error&) {
    }
  }
  return 0;
}
