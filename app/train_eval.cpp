#include "app/train_eval.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "app/embed.h"
#include "app/eval_command.h"
#include "app/stats_command.h"
#include "core/metrics/feature_stats.h"

namespace sngan {

using nlohmann::json;

struct TrainingEvaluator::State {
  OpenedFeatureExtractor net;
  Reference reference;
  Tensor z;  // (eval_samples, z_dim): the same images each evaluation
};

namespace {
bool lower_is_better(const std::string& metric) { return metric != "is"; }

double metric_value(const json& eval, const std::string& metric) {
  const json& v = eval.at(metric);
  return v.is_object() ? v.at("mean").get<double>() : v.get<double>();
}
}  // namespace

TrainingEvaluator::TrainingEvaluator(const RunConfig& config)
    : config_(config), state_(std::make_unique<State>()) {
  const OutputConfig& o = config.output;
  state_->net = open_feature_extractor(o.eval_features);
  if (o.eval_reference.empty())
    state_->reference = reference_from_data(config, state_->net, o.eval_real_images, o.eval_real_images,
                                            "the run's data");
  else
    state_->reference = load_reference(o.eval_reference, state_->net);
  Rng z_rng(config.seed ^ 0xe7a1e7a1ULL);
  Rng init(0);
  state_->z = make_generator(config.generator, init)->sample_z(z_rng, o.eval_samples);
}

void TrainingEvaluator::resume(const RunHistory& history) {
  for (const json& line : history.evaluations)
    if (line["eval"].contains(config_.output.eval_metric)) improves(line);
}

TrainingEvaluator::~TrainingEvaluator() = default;

bool TrainingEvaluator::due(int64_t iteration, int64_t last_iteration) const {
  const int64_t every = config_.output.eval_every;
  return every > 0 && (iteration % every == 0 || iteration == last_iteration);
}

json TrainingEvaluator::evaluate(Trainer& trainer) {
  const bool ema = config_.output.sample_ema && trainer.ema_generator() != nullptr;
  const int64_t n = state_->z.dim(0), z_dim = state_->z.dim(1);
  int64_t next = 0;
  auto source = [&](int64_t nb) {
    Tensor z = Tensor::empty(Shape{nb, z_dim});
    std::copy(state_->z.data() + next * z_dim, state_->z.data() + (next + nb) * z_dim, z.data());
    next += nb;
    return trainer.sample(z, ema);
  };
  const Embedded fake = embed_images(*state_->net.net, source, n, "evaluate");
  EvalOptions options;
  options.seed = config_.seed;
  const std::set<std::string> metrics = {"fd", "kid", "is", "pr"};
  json eval = compute_metrics(options, metrics, state_->net.net->name(), state_->reference, fake, false);
  json flat = {{"fd", eval["fd"]}, {"kid", eval["kid"]["mean"]}, {"is", eval["is"]["mean"]},
               {"precision", eval["pr"]["precision"]}, {"recall", eval["pr"]["recall"]}, {"n", n},
               {"ema", ema}, {"features", state_->net.net->name()},
               {"class_histogram", class_histogram(fake.logits)}};
  spdlog::info("evaluation at iteration {}: {} {:.4g} (fd {:.4g}, kid {:.4g}, is {:.4g}, precision {:.3f}, recall {:.3f})",
               trainer.iteration(), config_.output.eval_metric, metric_value(flat, config_.output.eval_metric),
               flat["fd"].get<double>(), flat["kid"].get<double>(), flat["is"].get<double>(),
               flat["precision"].get<double>(), flat["recall"].get<double>());
  return {{"step", trainer.iteration()}, {"eval", flat}};
}

bool TrainingEvaluator::improves(const json& line) {
  const std::string& metric = config_.output.eval_metric;
  const double v = metric_value(line.at("eval"), metric);
  if (!std::isfinite(v)) return false;
  const bool better = !best_ || (lower_is_better(metric) ? v < *best_ : v > *best_);
  if (better) best_ = v;
  return better;
}

}  // namespace sngan
