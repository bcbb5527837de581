#include "app/stats_command.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "app/embed.h"
#include "app/run_setup.h"
#include "core/io/safetensors.h"
#include "data/open_dataset.h"

namespace sngan {
namespace {

using nlohmann::json;

// A double matrix as two float32 tensors: value and remainder.
void split_double(const double* src, int64_t n, const Shape& shape, Tensor& hi, Tensor& lo) {
  hi = Tensor::empty(shape);
  lo = Tensor::empty(shape);
  for (int64_t i = 0; i < n; ++i) {
    hi[i] = static_cast<float>(src[i]);
    lo[i] = static_cast<float>(src[i] - static_cast<double>(hi[i]));
  }
}

const Tensor& need(const TensorFile& f, const std::string& name, const std::string& path) {
  auto it = f.tensors.find(name);
  SNGAN_CHECK(it != f.tensors.end(), path, ": expected tensor '", name,
              "' in a statistics file, not found");
  return it->second;
}

// Real images of a run config, embedded: statistics, evenly spaced sample, histogram.
Reference reference_from_config(const std::string& path, OpenedFeatureExtractor& net, int64_t n,
                                int64_t sample_limit) {
  return reference_from_data(load_run_config(path, {}), net, n, sample_limit, path);
}

}  // namespace

Reference reference_from_data(const RunConfig& cfg, OpenedFeatureExtractor& net, int64_t n, int64_t sample_limit,
                              const std::string& source) {
  const std::unique_ptr<Dataset> data = open_run_dataset(cfg.data);
  Reference r;
  r.preprocess = cfg.preprocess;
  r.data = data->describe();
  r.extractor_id = net.id;
  r.source = source;
  const Embedded e = embed_dataset(*net.net, *data, cfg.preprocess, n, "real");
  r.stats = compute_feature_stats(e.features);
  r.class_histogram = class_histogram(e.logits);
  const int64_t rows = e.features.rows(), m = std::min(rows, sample_limit);
  r.sample.resize(m, e.features.cols());
  for (int64_t i = 0; i < m; ++i) r.sample.row(i) = e.features.row(i * rows / m);
  spdlog::info("embedded {} real images ({}) in {:.1f} s, {:.0f} images/s", rows, r.data, e.seconds,
               rows / std::max(e.seconds, 1e-9));
  return r;
}


int run_stats(const StatsOptions& o) {
  SNGAN_CHECK(o.n >= 0, "--n: expected >= 0 (0: the whole split), got ", o.n);
  OpenedFeatureExtractor net = open_feature_extractor(o.features_path);
  const Reference r = reference_from_config(o.config_path, net, o.n, o.sample_limit);
  const int64_t d = r.stats.mean.size();
  TensorFile f;
  split_double(r.stats.mean.data(), d, Shape{d}, f.tensors["mean"], f.tensors["mean_lo"]);
  split_double(r.stats.cov.data(), d * d, Shape{d, d}, f.tensors["cov"], f.tensors["cov_lo"]);
  Tensor sample = Tensor::empty(Shape{r.sample.rows(), d});  // (M, D)
  for (int64_t i = 0; i < sample.numel(); ++i) sample[i] = static_cast<Scalar>(r.sample.data()[i]);
  f.tensors["features"] = sample;
  Tensor hist = Tensor::empty(Shape{static_cast<int64_t>(r.class_histogram.size())});
  for (size_t i = 0; i < r.class_histogram.size(); ++i) hist[static_cast<int64_t>(i)] = Scalar(r.class_histogram[i]);
  f.tensors["class_histogram"] = hist;
  f.metadata = {{"sngan_stats", "1"},
                {"feature_network", r.extractor_id},
                {"data", r.data},
                {"count", std::to_string(r.stats.count)},
                {"preprocess", json{{"image_size", r.preprocess.image_size},
                                    {"channels", r.preprocess.channels},
                                    {"fit", r.preprocess.fit}}.dump()}};
  const std::filesystem::path parent = std::filesystem::path(o.out_path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  write_safetensors(o.out_path, f);
  std::printf("wrote %s: %lld real images, %lld features each, sample of %lld\n", o.out_path.c_str(),
              static_cast<long long>(r.stats.count), static_cast<long long>(d),
              static_cast<long long>(r.sample.rows()));
  return 0;
}

Reference load_reference(const std::string& path, OpenedFeatureExtractor& net, int64_t sample_limit) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext != ".safetensors") return reference_from_config(path, net, 0, sample_limit);
  const TensorFile f = read_safetensors(path);
  auto meta = [&](const std::string& key) {
    auto it = f.metadata.find(key);
    SNGAN_CHECK(it != f.metadata.end(), path, ": expected a statistics file made by `sngan stats` ",
                "(metadata '", key, "' not found)");
    return it->second;
  };
  meta("sngan_stats");
  Reference r;
  r.source = path;
  r.extractor_id = meta("feature_network");
  SNGAN_CHECK(r.extractor_id == net.id, path, ": made with feature network '", r.extractor_id,
              "', but --features ", net.path, " is '", net.id,
              "'; make the statistics again with this network");
  r.data = meta("data");
  try {
    const json p = json::parse(meta("preprocess"));
    r.preprocess.image_size = p.at("image_size").get<int>();
    r.preprocess.channels = p.at("channels").get<int>();
    r.preprocess.fit = p.at("fit").get<std::string>();
  } catch (const json::exception& e) {
    SNGAN_CHECK(false, path, ": metadata 'preprocess': expected image_size, channels, fit; ", e.what());
  }
  const Tensor &mean = need(f, "mean", path), &mean_lo = need(f, "mean_lo", path);
  const Tensor &cov = need(f, "cov", path), &cov_lo = need(f, "cov_lo", path);
  const int64_t d = net.net->feature_dim();
  SNGAN_CHECK(mean.shape() == Shape{d} && mean_lo.shape() == Shape{d} && cov.shape() == (Shape{d, d}) &&
                  cov_lo.shape() == (Shape{d, d}),
              path, ": expected mean (", d, ") and cov (", d, ", ", d, "), got ", mean.shape().str(),
              " and ", cov.shape().str());
  r.stats.mean.resize(d);
  r.stats.cov.resize(d, d);
  for (int64_t i = 0; i < d; ++i) r.stats.mean(i) = double(mean[i]) + double(mean_lo[i]);
  for (int64_t i = 0; i < d * d; ++i) r.stats.cov.data()[i] = double(cov[i]) + double(cov_lo[i]);
  try {
    r.stats.count = std::stoll(meta("count"));
  } catch (const std::exception&) {
    SNGAN_CHECK(false, path, ": metadata 'count': expected an integer, got '", meta("count"), "'");
  }
  const Tensor& sample = need(f, "features", path);
  SNGAN_CHECK(sample.ndim() == 2 && sample.dim(1) == d, path, ": expected features (M, ", d,
              "), got ", sample.shape().str());
  r.sample = to_feature_matrix(sample);
  const Tensor& hist = need(f, "class_histogram", path);
  for (int64_t i = 0; i < hist.numel(); ++i) r.class_histogram.push_back(static_cast<int64_t>(hist[i]));
  return r;
}

}  // namespace sngan
