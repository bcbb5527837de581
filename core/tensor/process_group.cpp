#include "core/tensor/process_group.h"

#include <chrono>

#include "core/tensor/check.h"

namespace sngan {

Shard shard_of(int64_t total, const ProcessGroup* group) {
  if (!group || group->size() == 1) return {0, total, total};
  const int64_t r = group->rank(), s = group->size();
  return {total * r / s, total * (r + 1) / s, total};
}

namespace {
thread_local ProcessGroup* t_batch_group = nullptr;
}  // namespace

ProcessGroup* batch_group() { return t_batch_group; }

BatchGroupScope::BatchGroupScope(ProcessGroup* group) : previous_(t_batch_group) {
  t_batch_group = group && group->size() > 1 ? group : nullptr;
}
BatchGroupScope::~BatchGroupScope() { t_batch_group = previous_; }

namespace {

// What the ranks of one LocalProcessGroups share: a reusable barrier and one slot per rank.
struct LocalShared {
  explicit LocalShared(int n) : size(n), slots(static_cast<size_t>(n)) {}
  void barrier() {
    std::unique_lock<std::mutex> lock(mutex);
    const int64_t gen = generation;
    if (++arrived == size) {
      arrived = 0;
      ++generation;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return generation != gen; });
    }
  }
  const int size;
  std::vector<const void*> slots;
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  int64_t generation = 0;
};

class LocalGroup : public ProcessGroup {
 public:
  LocalGroup(std::shared_ptr<LocalShared> shared, int rank) : shared_(std::move(shared)), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return shared_->size; }
  void sum(float* data, int64_t n) override { sum_impl(data, n); }
  void sum(double* data, int64_t n) override { sum_impl(data, n); }
  bool any(bool flag) override {
    bool value = flag;
    post(&value);
    bool out = false;
    for (const void* p : shared_->slots) out = out || *static_cast<const bool*>(p);
    shared_->barrier();
    return out;
  }
  void broadcast(std::string& bytes) override {
    post(&bytes);
    std::string copy = *static_cast<const std::string*>(shared_->slots[0]);
    shared_->barrier();
    bytes = std::move(copy);
  }
  double seconds() const override { return 0; }

 private:
  // Publishes this rank's pointer and waits until every rank has published.
  void post(const void* p) {
    shared_->slots[static_cast<size_t>(rank_)] = p;
    shared_->barrier();
  }
  template <typename T>
  void sum_impl(T* data, int64_t n) {
    post(data);
    // Rank 0's values, then each other rank's added in rank order (as the MPI group does).
    const T* first = static_cast<const T*>(shared_->slots[0]);
    std::vector<T> total(first, first + n);
    for (size_t r = 1; r < shared_->slots.size(); ++r) {
      const T* src = static_cast<const T*>(shared_->slots[r]);
      for (int64_t i = 0; i < n; ++i) total[static_cast<size_t>(i)] += src[i];
    }
    shared_->barrier();  // everyone has read every rank's data before anyone overwrites its own
    for (int64_t i = 0; i < n; ++i) data[i] = total[static_cast<size_t>(i)];
  }

  std::shared_ptr<LocalShared> shared_;
  int rank_;
};

}  // namespace

std::vector<std::unique_ptr<ProcessGroup>> LocalProcessGroups::make(int size) {
  SNGAN_CHECK(size >= 1, "process group: expected at least one rank, got ", size);
  auto shared = std::make_shared<LocalShared>(size);
  std::vector<std::unique_ptr<ProcessGroup>> out;
  for (int r = 0; r < size; ++r) out.push_back(std::make_unique<LocalGroup>(shared, r));
  return out;
}

}  // namespace sngan
