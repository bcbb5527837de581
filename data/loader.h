// Loader: batches of preprocessed examples, reshuffled every epoch, with an exact,
// saveable position.
//
// Determinism: everything random derives from one Rng (seeded with LoaderConfig::seed)
// that is advanced once per epoch: at the start of epoch e, from the state saved in the
// position, it draws the epoch's permutation (Fisher-Yates, if shuffle) and then one 64-bit
// augmentation base. Example k of the epoch (k = batch index * batch_size + slot) takes
// its flip and dequantisation noise from its own Rng(mix_seed(base, k)). So a batch is a
// pure function of (epoch-start state, batch index): prefetching ahead and restoring a
// saved position both reproduce exactly the batches an uninterrupted run would have seen.
//
// Threads: with prefetch > 0 one background thread (started at the first next()) prepares
// up to `prefetch` batches ahead; an error it meets (e.g. an I/O failure) is rethrown by
// next(). Loader itself is used from one thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/tensor/tensor.h"
#include "data/dataset.h"
#include "data/preprocess.h"

namespace sngan {

struct LoaderConfig {
  int batch_size = 64;
  bool drop_last = true;  // drop the last partial batch of each epoch
  bool shuffle = true;    // new permutation each epoch; false: dataset order
  uint64_t seed = 0;
  int prefetch = 2;  // batches prepared ahead on a background thread; 0: on the caller's
};

// Where the loader is: the next batch is batch `index` of epoch `epoch`, and rng_state is
// the loader's Rng state at the start of that epoch.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t index = 0;
  std::string rng_state;

  // "epoch=3 index=17 rng=xoshiro256**:<64 hex>" and back (parse throws on bad text).
  std::string str() const;
  static LoaderPosition parse(const std::string& text);
  bool operator==(const LoaderPosition& o) const {
    return epoch == o.epoch && index == o.index && rng_state == o.rng_state;
  }
  bool operator!=(const LoaderPosition& o) const { return !(*this == o); }
};

class Loader {
 public:
  // Validates the configs and that every example fits `preprocess` (check_fits); throws
  // sngan::Error naming the problem. The dataset must not be empty and, with drop_last,
  // must hold at least batch_size examples.
  Loader(std::shared_ptr<const Dataset> dataset, const LoaderConfig& config,
         const PreprocessConfig& preprocess);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch, a new tensor: images (N, C, S, S) in [-1, 1]; feature sets (toy 2D)
  // (N, feature_dim) as they are (no preprocessing). N = batch_size except for the last
  // batch of an epoch without drop_last. Epochs roll over by themselves. If labels is
  // given it is assigned the N labels (-1 for unlabeled examples).
  Tensor next(std::vector<int>* labels = nullptr);

  // Position of the batch the next call to next() returns (after the last batch of an
  // epoch: index 0 of the following epoch).
  LoaderPosition position() const { return position_; }
  // Continue from a saved position (same dataset and config). Index may equal
  // batches_per_epoch() (= start of the next epoch). Drops prefetched batches.
  void restore(const LoaderPosition& position);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  Shape batch_shape() const;  // of a full batch
  const Dataset& dataset() const { return *dataset_; }
  const LoaderConfig& config() const { return config_; }
  const PreprocessConfig& preprocess() const { return preprocess_; }

 private:
  struct Cursor {
    LoaderPosition at;        // the batch make_batch produces next
    bool epoch_ready = false; // order, aug_base and next_state computed for at.epoch
    std::vector<int64_t> order;
    uint64_t aug_base = 0;
    std::string next_state;   // Rng state at the start of the following epoch
  };
  struct Batch {
    Tensor x;
    std::vector<int> labels;
    LoaderPosition after;
    std::exception_ptr error;
  };

  void begin_epoch(Cursor& cursor) const;
  Batch make_batch(Cursor& cursor) const;  // advances cursor only on success
  void start_worker();
  void stop_worker();
  void worker_loop();

  std::shared_ptr<const Dataset> dataset_;
  LoaderConfig config_;
  PreprocessConfig preprocess_;
  int64_t batches_per_epoch_ = 0;
  LoaderPosition position_;  // consumer side
  Cursor cursor_;            // producer side (owned by the worker while it runs)
  std::exception_ptr failed_;

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool stop_ = false;
};

}  // namespace sngan
