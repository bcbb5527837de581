// `sngan classifier train`: trains the small CNN of core/metrics/classifier.h on a labelled
// image data set (Fashion-MNIST for the evaluation of grey 32x32 runs), reports its test-split
// accuracy and writes it as a feature network for `sngan stats` and `sngan eval`.
//
// Config (JSON; unknown keys are errors naming the file and key path; defaults in brackets):
//   seed [0], threads [0: every core]
//   data.format ["idx"], data.path (required), data.image_size [32], data.fit ["pad"]
//       (train on split "train", test on split "test"; images are made grey)
//   model.channels [[32, 64, 128]], model.feature_dim [128]
//   train.epochs [3], train.iterations [0: epochs * batches per epoch; else this many
//       batches], train.batch_size [64], train.lr [1e-3], train.beta1 [0.9],
//       train.beta2 [0.999], train.lr_decay ["linear" to 0 over training | "none"]
//   test_limit [0: the whole test split; else its first N examples]
//   out [the --out option wins; "models/classifier.safetensors"]
#pragma once

#include <string>
#include <vector>

namespace sngan {

struct ClassifierTrainOptions {
  std::string config_path;
  std::string out_path;  // overrides the config's "out"
};

int run_classifier_train(const ClassifierTrainOptions& options);

}  // namespace sngan
