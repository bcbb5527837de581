// Evaluation during training (output.eval_every): scores the generator every K iterations and
// at the end against a reference, with the metrics of `sngan eval`, and says when the
// configured metric improved (the run then keeps checkpoints/best.safetensors).
// The reference and the feature network are opened once, before the run writes anything, so a
// missing file fails early. Sampling uses its own fixed z (from the seed), in evaluation mode:
// training results do not depend on whether or how often it runs.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

#include "app/config.h"
#include "app/run_report.h"
#include "core/gan/trainer.h"

namespace sngan {

class TrainingEvaluator {
 public:
  // Opens the feature network and builds the reference (embedding the run's own data unless
  // output.eval_reference names a statistics file).
  explicit TrainingEvaluator(const RunConfig& config);
  // The evaluations of a resumed run, so that the best value carries over.
  void resume(const RunHistory& history);
  ~TrainingEvaluator();

  bool due(int64_t iteration, int64_t last_iteration) const;
  // Scores the trainer's generator (EMA-G when output.sample_ema and it exists). Returns the
  // log.jsonl line {"step", "eval": {"fd", "kid", "is", "precision", "recall", "n", ...}}.
  nlohmann::json evaluate(Trainer& trainer);
  // Whether the line's metric is the best so far (and records it as such).
  bool improves(const nlohmann::json& line);

 private:
  struct State;
  const RunConfig& config_;
  std::unique_ptr<State> state_;
  std::optional<double> best_;
};

}  // namespace sngan
