#include "data/loader.h"

#include <numeric>
#include <sstream>

#include "core/tensor/check.h"
#include "core/tensor/rng.h"
#include "data/seed.h"

namespace sngan {

std::string LoaderPosition::str() const {
  return "epoch=" + std::to_string(epoch) + " index=" + std::to_string(index) + " rng=" + rng_state;
}

LoaderPosition LoaderPosition::parse(const std::string& text) {
  std::istringstream is(text);
  LoaderPosition p;
  std::string e, i, r;
  is >> e >> i >> r;
  const bool shape_ok = e.rfind("epoch=", 0) == 0 && i.rfind("index=", 0) == 0 &&
                        r.rfind("rng=", 0) == 0 && !(is >> std::ws).good();
  SNGAN_CHECK(shape_ok, "expected a loader position 'epoch=<n> index=<n> rng=<state>', got '",
              text, "'");
  try {
    size_t used = 0;
    p.epoch = std::stoll(e.substr(6), &used);
    SNGAN_CHECK(used == e.size() - 6, "");
    p.index = std::stoll(i.substr(6), &used);
    SNGAN_CHECK(used == i.size() - 6, "");
  } catch (const std::exception&) {
    SNGAN_CHECK(false, "expected integers for epoch and index in loader position, got '", text, "'");
  }
  p.rng_state = r.substr(4);
  Rng().set_state(p.rng_state);  // validates
  return p;
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, const LoaderConfig& config,
               const PreprocessConfig& preprocess)
    : dataset_(std::move(dataset)), config_(config), preprocess_(preprocess) {
  SNGAN_CHECK(dataset_ != nullptr, "loader: expected a dataset, got null");
  SNGAN_CHECK(config.batch_size >= 1, "loader: expected batch_size >= 1, got ", config.batch_size);
  SNGAN_CHECK(config.prefetch >= 0 && config.prefetch <= 64,
              "loader: expected prefetch in [0, 64], got ", config.prefetch);
  const int64_t n = dataset_->size();
  SNGAN_CHECK(n > 0, dataset_->describe(), ": expected at least one example, got none");
  SNGAN_CHECK(!config.drop_last || n >= config.batch_size, dataset_->describe(),
              ": expected at least batch_size=", config.batch_size,
              " examples with drop_last, got ", n);
  check_fits(*dataset_, preprocess_);
  batches_per_epoch_ = config.drop_last ? n / config.batch_size
                                        : (n + config.batch_size - 1) / config.batch_size;
  // Its own stream: Rng(seed) itself seeds the trainer's streams (core/gan/trainer.cpp).
  constexpr uint64_t kShuffleStream = 0x5107f1e;
  position_ = {0, 0, Rng(mix_seed(config.seed, kShuffleStream)).state()};
  cursor_.at = position_;
}

Loader::~Loader() { stop_worker(); }

Shape Loader::batch_shape() const {
  if (dataset_->feature_dim() > 0) return Shape{config_.batch_size, dataset_->feature_dim()};
  return Shape{config_.batch_size, preprocess_.channels, preprocess_.image_size,
               preprocess_.image_size};
}

void Loader::begin_epoch(Cursor& cursor) const {
  Rng rng;
  rng.set_state(cursor.at.rng_state);
  cursor.order.resize(static_cast<size_t>(dataset_->size()));
  std::iota(cursor.order.begin(), cursor.order.end(), int64_t(0));
  if (config_.shuffle)
    for (size_t i = cursor.order.size() - 1; i > 0; --i)
      std::swap(cursor.order[i], cursor.order[rng.below(i + 1)]);
  cursor.aug_base = rng.next_u64();
  cursor.next_state = rng.state();
  cursor.epoch_ready = true;
}

Loader::Batch Loader::make_batch(Cursor& cursor) const {
  if (!cursor.epoch_ready) begin_epoch(cursor);
  const int64_t n = dataset_->size();
  const int64_t start = cursor.at.index * config_.batch_size;
  const int64_t count = std::min<int64_t>(config_.batch_size, n - start);
  const int fdim = dataset_->feature_dim();
  Batch b;
  Shape shape = batch_shape();
  shape[0] = count;
  b.x = Tensor::empty(shape);  // (N, C, S, S) or (N, F)
  b.labels.resize(static_cast<size_t>(count));
  const int64_t per = shape.numel() / count;
  const bool random = preprocess_.dequantize || preprocess_.random_flip;
  Example ex;
  PreprocessScratch scratch;
  Rng rng;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t i = cursor.order[static_cast<size_t>(start + k)];
    dataset_->read(i, ex);
    Scalar* out = b.x.data() + k * per;
    if (fdim > 0) {
      SNGAN_CHECK(static_cast<int>(ex.features.size()) == fdim, dataset_->source(i),
                  ": expected ", fdim, " features, got ", ex.features.size());
      for (int f = 0; f < fdim; ++f) out[f] = static_cast<Scalar>(ex.features[static_cast<size_t>(f)]);
    } else {
      if (random) rng = Rng(mix_seed(cursor.aug_base, static_cast<uint64_t>(start + k)));
      preprocess_image(ex, preprocess_, rng, out, scratch);
    }
    b.labels[static_cast<size_t>(k)] = ex.label;
  }
  // Advance.
  if (++cursor.at.index == batches_per_epoch_) {
    cursor.at = {cursor.at.epoch + 1, 0, cursor.next_state};
    cursor.epoch_ready = false;
  }
  b.after = cursor.at;
  return b;
}

Tensor Loader::next(std::vector<int>* labels) {
  if (failed_) std::rethrow_exception(failed_);
  Batch b;
  if (config_.prefetch == 0) {
    b = make_batch(cursor_);
  } else {
    if (!worker_.joinable()) start_worker();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return !queue_.empty(); });
      b = std::move(queue_.front());
      queue_.pop_front();
    }
    cv_.notify_all();
    if (b.error) {
      failed_ = b.error;
      std::rethrow_exception(failed_);
    }
  }
  position_ = b.after;
  if (labels) *labels = std::move(b.labels);
  return b.x;
}

void Loader::restore(const LoaderPosition& pos) {
  constexpr int64_t kMaxEpoch = int64_t(1) << 62;  // far beyond any run; keeps epoch + 1 finite
  SNGAN_CHECK(pos.epoch >= 0 && pos.epoch < kMaxEpoch && pos.index >= 0 && pos.index <= batches_per_epoch_,
              "loader: expected a position with epoch in [0, 2^62) and index in [0, ", batches_per_epoch_,
              "] (batches per epoch), got ", pos.str());
  Rng().set_state(pos.rng_state);  // validates the state text
  stop_worker();
  failed_ = nullptr;
  cursor_ = Cursor{};
  cursor_.at = pos;
  if (pos.index == batches_per_epoch_) {
    begin_epoch(cursor_);
    cursor_.at = {pos.epoch + 1, 0, cursor_.next_state};
    cursor_.epoch_ready = false;
  }
  position_ = cursor_.at;
}

void Loader::start_worker() {
  stop_ = false;
  worker_ = std::thread([this] { worker_loop(); });
}

void Loader::stop_worker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
  queue_.clear();
  // The worker ran ahead: rewind the producer to what the consumer has seen.
  cursor_ = Cursor{};
  cursor_.at = position_;
}

void Loader::worker_loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || queue_.size() < static_cast<size_t>(config_.prefetch); });
      if (stop_) return;
    }
    Batch b;
    try {
      b = make_batch(cursor_);
    } catch (...) {
      b.error = std::current_exception();
    }
    const bool failed = b.error != nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(b));
    }
    cv_.notify_all();
    if (failed) return;
  }
}

}  // namespace sngan
