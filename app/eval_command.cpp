#include "app/eval_command.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <set>
#include <sstream>

#include "app/embed.h"
#include "app/mpi_group.h"
#include "app/run_setup.h"
#include "app/stats_command.h"
#include "core/gan/checkpoint.h"
#include "core/io/atomic_file.h"
#include "core/metrics/frechet.h"
#include "core/metrics/inception_score.h"
#include "core/metrics/kid.h"
#include "core/metrics/precision_recall.h"
#include "data/image_folder.h"
#include "data/open_dataset.h"

namespace sngan {
namespace {

using nlohmann::json;

std::set<std::string> parse_metrics(const std::string& list) {
  std::set<std::string> out;
  std::stringstream ss(list);
  std::string m;
  while (std::getline(ss, m, ',')) {
    if (m == "fid") m = "fd";
    SNGAN_CHECK(m == "fd" || m == "kid" || m == "is" || m == "pr", "--metrics: unknown metric '", m,
                "' (expected a comma-separated list of fd, kid, is, pr)");
    out.insert(m);
  }
  SNGAN_CHECK(!out.empty(), "--metrics: expected at least one of fd, kid, is, pr");
  return out;
}

// The generator of a checkpoint (or its moving average), without D or the optimizers.
struct CheckpointGenerator {
  std::shared_ptr<Generator> g;
  json iteration;  // the checkpoint's "iteration" metadata as a number (null when absent)
};

CheckpointGenerator open_generator(const std::string& path, bool ema) {
  TensorFile file = read_safetensors(path);
  auto it = file.metadata.find("config");
  SNGAN_CHECK(it != file.metadata.end(), path,
              ": expected an sngan checkpoint (metadata 'config' not found)");
  RunConfig cfg = run_config_from_text(it->second, path + " (stored config)");
  SNGAN_CHECK(is_image_data(cfg), path, ": expected an image model, got a toy 2D one");
  CheckpointGenerator out;
  out.g = load_generator(file, cfg.generator, ema, path);
  auto iteration = file.metadata.find("iteration");
  if (iteration != file.metadata.end()) {
    char* end = nullptr;
    const long long n = std::strtoll(iteration->second.c_str(), &end, 10);
    if (end && *end == '\0' && !iteration->second.empty()) out.iteration = n;
  }
  return out;
}

void print_histogram(const char* label, const std::vector<int64_t>& h) {
  std::printf("%-22s", label);
  for (int64_t c : h) std::printf(" %6lld", static_cast<long long>(c));
  std::printf("\n");
}

// Under mpirun each rank embeds its shard of the images; this puts every rank's rows in place
// on every rank (a sum of zero-padded matrices: the rows are disjoint, so it is exact).
Embedded gather_shards(Embedded part, const Shard& shard, ProcessGroup* group) {
  if (!group) return part;
  auto gather = [&](FeatureMatrix& m, int64_t cols) {
    FeatureMatrix all = FeatureMatrix::Zero(shard.total, cols);
    if (shard.size() > 0) all.middleRows(shard.begin, shard.size()) = m;
    group->sum(all.data(), all.size());
    m = std::move(all);
  };
  gather(part.features, part.features.cols());
  gather(part.logits, part.logits.cols());
  if (!part.labels.empty() || shard.size() == 0) {
    std::vector<double> labels(static_cast<size_t>(shard.total), 0.0);
    for (size_t i = 0; i < part.labels.size(); ++i) labels[static_cast<size_t>(shard.begin) + i] = part.labels[i];
    group->sum(labels.data(), shard.total);
    part.labels.assign(labels.begin(), labels.end());
  }
  return part;
}

// Embeds this rank's shard of dataset's first n examples (all when n <= 0).
Embedded embed_data_shard(FeatureExtractor& net, const Dataset& data, const PreprocessConfig& preprocess,
                          int64_t n, ProcessGroup* group) {
  const int64_t total = n <= 0 || n > data.size() ? data.size() : n;
  const Shard shard = shard_of(total, group);
  Embedded part;
  if (shard.size() > 0) {
    part = embed_dataset(net, data, preprocess, shard.size(), "embed", shard.begin);
  } else {
    part.features.resize(0, net.feature_dim());
    part.logits.resize(0, net.num_classes());
  }
  return gather_shards(std::move(part), shard, group);
}

// Embeds the images under evaluation (generated, a folder or a data split), split over the MPI
// ranks when there are several; records where they came from in out.
Embedded embed_evaluated(const EvalOptions& o, OpenedFeatureExtractor& net, const Reference& ref,
                         json& out, ProcessGroup* group) {
  if (!o.checkpoint.empty()) {
    SNGAN_CHECK(o.n >= 2, "--n: expected at least 2 samples, got ", o.n);
    CheckpointGenerator g = open_generator(o.checkpoint, o.ema);
    const Shard shard = shard_of(o.n, group);
    Rng rng(o.seed);
    if (shard.begin > 0) g.g->sample_z(rng, shard.begin);  // the earlier ranks' z: the same z per sample
    auto source = [&](int64_t nb) {
      const Tensor z = g.g->sample_z(rng, nb);
      NoGradGuard no_grad;
      return g.g->forward(Var(z)).value();
    };
    out["checkpoint"] = o.checkpoint;
    out["iteration"] = g.iteration;
    out["ema"] = o.ema;
    out["seed"] = o.seed;
    return gather_shards(embed_images(*net.net, source, shard.size(), "generate+embed"), shard, group);
  }
  if (!o.data_config.empty()) {
    const RunConfig cfg = load_run_config(o.data_config, {});
    const std::unique_ptr<Dataset> data = open_run_dataset(cfg.data);
    out["data"] = data->describe();
    return embed_data_shard(*net.net, *data, cfg.preprocess, o.n, group);
  }
  ImageFolderDataset folder(o.images_dir);
  SNGAN_CHECK(folder.size() >= 2, o.images_dir, ": expected at least 2 PNG/JPEG images, found ",
              folder.size());
  out["images"] = o.images_dir;
  return embed_data_shard(*net.net, folder, ref.preprocess, o.n, group);
}

}  // namespace

// Computes the asked metrics, prints one table row each and returns them as JSON.
json compute_metrics(const EvalOptions& o, const std::set<std::string>& metrics, const std::string& net_name,
                     const Reference& ref, const Embedded& fake, bool print) {
  const int64_t n = fake.features.rows();
  json m;
  if (print) std::printf("\n%-22s %s\n", "metric", "value");
  if (metrics.count("fd")) {
    const double fd = frechet_distance(ref.stats, compute_feature_stats(fake.features));
    m["fd"] = fd;
    if (print) std::printf("%-22s %.4f\n", net_name == "classifier" ? "FD (classifier)" : "FID", fd);
  }
  if (metrics.count("kid")) {
    SNGAN_CHECK(n >= 2 && ref.sample.rows() >= 2, "KID: expected at least 2 generated and 2 reference "
                "feature vectors, got ", n, " and ", ref.sample.rows());
    const KidResult k = kernel_inception_distance(ref.sample, fake.features,
                                                  KidConfig{o.kid_subsets, o.kid_subset_size, o.seed});
    m["kid"] = {{"mean", k.mean}, {"std", k.std}, {"subsets", k.subsets}, {"subset_size", k.subset_size}};
    if (print) std::printf("%-22s %.6f +- %.6f (%d subsets of %lld)\n", "KID", k.mean, k.std, k.subsets,
                static_cast<long long>(k.subset_size));
  }
  if (metrics.count("is")) {
    SNGAN_CHECK(n >= o.is_splits, "IS: expected at least ", o.is_splits, " samples (one per split), got ", n);
    const InceptionScore s = inception_score(fake.logits, o.is_splits);
    m["is"] = {{"mean", s.mean}, {"std", s.std}, {"splits", s.splits}};
    if (print) std::printf("%-22s %.4f +- %.4f (%d splits)\n", "IS", s.mean, s.std, s.splits);
  }
  if (metrics.count("pr")) {
    SNGAN_CHECK(n > o.pr_k && ref.sample.rows() > o.pr_k, "precision/recall: expected more than k = ",
                o.pr_k, " generated and reference feature vectors, got ", n, " and ", ref.sample.rows());
    const PrecisionRecall pr = precision_recall(ref.sample, fake.features, o.pr_k);
    m["pr"] = {{"precision", pr.precision}, {"recall", pr.recall}, {"k", pr.k}};
    if (print) std::printf("%-22s %.4f\n%-22s %.4f\n", "precision", pr.precision, "recall", pr.recall);
  }
  return m;
}

int run_eval(const EvalOptions& o) {
  SNGAN_CHECK(int(!o.checkpoint.empty()) + int(!o.images_dir.empty()) + int(!o.data_config.empty()) == 1,
              "expected exactly one of --checkpoint, --images and --data");
  const std::set<std::string> metrics = parse_metrics(o.metrics);
  OpenedFeatureExtractor net = open_feature_extractor(o.features);
  const Reference ref = load_reference(o.reference, net);

  json out = {{"reference", o.reference}, {"reference_data", ref.data},
              {"features", o.features},   {"feature_extractor", net.id}};
  ProcessGroup* group = world_group();  // under mpirun: the images split over the ranks
  const Embedded fake = embed_evaluated(o, net, ref, out, group);
  if (group && group->rank() > 0) return 0;  // rank 0 scores and reports
  const int64_t n = fake.features.rows();
  const double ips = n / std::max(fake.seconds, 1e-9);
  out["n"] = n;
  out["images_per_second"] = ips;
  spdlog::info("{} images in {:.1f} s, {:.0f} images/s", n, fake.seconds, ips);
  out["metrics"] = compute_metrics(o, metrics, net.net->name(), ref, fake);
  const std::vector<int64_t> hist = class_histogram(fake.logits);
  out["class_histogram"] = hist;
  out["reference_class_histogram"] = ref.class_histogram;
  std::printf("\n");
  if (hist.size() <= 20) {
    std::vector<int64_t> idx(hist.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
    print_histogram("class", idx);
    print_histogram("samples", hist);
    print_histogram("reference", ref.class_histogram);
  } else {  // e.g. Inception's 1008 classes: the counts are in the JSON
    const auto hit = std::count_if(hist.begin(), hist.end(), [](int64_t c) { return c > 0; });
    std::printf("class histogram: %lld of %zu classes predicted at least once\n",
                static_cast<long long>(hit), hist.size());
  }
  if (!o.out.empty()) {
    write_file_atomic(o.out, out.dump(2) + "\n");
    spdlog::info("wrote {}", o.out);
  }
  return 0;
}

}  // namespace sngan
