#include "app/embed.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "app/progress.h"

namespace sngan {

Embedded embed_images(FeatureExtractor& net, const ImageBatchSource& source, int64_t n,
                      const std::string& label, int64_t batch) {
  Embedded out;
  out.features.resize(n, net.feature_dim());
  out.logits.resize(n, net.num_classes());
  Progress progress(label, n);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t nb = std::min(batch, n - b0);
    const Tensor images = source(nb);  // (nb, C, S, S)
    Tensor f, z;
    net.embed(images, &f, &z);
    out.features.middleRows(b0, nb) = to_feature_matrix(f);
    out.logits.middleRows(b0, nb) = to_feature_matrix(z);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char extra[64];
    std::snprintf(extra, sizeof extra, "%.0f img/s", s > 0 ? double(b0 + nb) / s : 0.0);
    progress.update(b0 + nb, extra);
  }
  progress.finish();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

Embedded embed_dataset(FeatureExtractor& net, const Dataset& dataset,
                       const PreprocessConfig& preprocess, int64_t n, const std::string& label,
                       int64_t first) {
  SNGAN_CHECK(dataset.feature_dim() == 0, dataset.describe(),
              ": expected an image data set, got feature vectors (toy 2D data have no images "
              "to embed)");
  check_fits(dataset, preprocess);
  SNGAN_CHECK(first >= 0 && first <= dataset.size(), dataset.describe(), ": no example ", first);
  if (n <= 0 || n > dataset.size() - first) n = dataset.size() - first;
  PreprocessConfig plain = preprocess;
  plain.random_flip = false;
  plain.dequantize = false;
  const int64_t s = plain.image_size, c = plain.channels;
  std::vector<int> labels;
  int64_t next = first;
  auto source = [&](int64_t nb) {
    Tensor x = Tensor::empty(Shape{nb, c, s, s});  // (nb, C, S, S)
    std::vector<Example> ex(static_cast<size_t>(nb));
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < nb; ++i) {
      Rng unused(0);
      PreprocessScratch scratch;
      dataset.read(next + i, ex[static_cast<size_t>(i)]);
      preprocess_image(ex[static_cast<size_t>(i)], plain, unused, x.data() + i * c * s * s, scratch);
    }
    for (const Example& e : ex) labels.push_back(e.label);
    next += nb;
    return x;
  };
  Embedded out = embed_images(net, source, n, label);
  out.labels = std::move(labels);
  return out;
}

}  // namespace sngan
