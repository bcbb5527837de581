// Inception score (Salimans et al. 2016, Sec. 4, and their reference code, which the SN-GAN
// paper uses with 10 splits of 5000 samples): per split of the samples,
//   IS = exp( mean_x KL( p(y|x) || p(y) ) ),  p(y|x) = softmax(logits), p(y) = split mean,
// then the mean and the population std (numpy's default) over the splits. Split k holds rows
// [k * floor(N / splits), (k + 1) * floor(N / splits)); the N mod splits last rows are unused.
#pragma once

#include "core/metrics/feature_stats.h"

namespace sngan {

struct InceptionScore {
  double mean = 0, std = 0;
  int splits = 0;
};

// logits (N, K). Throws unless splits >= 1 and N >= splits. Softmax and logs in double
// (log-softmax, so a very confident class gives no log(0)).
InceptionScore inception_score(const FeatureMatrix& logits, int splits = 10);

}  // namespace sngan
