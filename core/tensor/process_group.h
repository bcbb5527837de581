// ProcessGroup: the processes (ranks) that train one model together by data parallelism.
// Every rank holds the whole model; each takes its shard of every batch, and the ranks sum
// what the batch couples: parameter gradients, batch-norm batch statistics, logged losses.
// core/ knows only this interface; app/ implements it over MPI (app/mpi_group.h), and
// LocalProcessGroups below implements it over threads of one process (for tests).
//
// Determinism: sum() adds the ranks' values in rank order and gives every rank the same
// bits, so the replicas never drift apart and a run is a function of its config, seed and
// rank count. (Across rank counts the sums are regrouped, so results agree to rounding.)
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sngan {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // data (n) <- the sum over the ranks of their data (n), in rank order; the same bits on
  // every rank. Every rank must call it with the same n.
  virtual void sum(float* data, int64_t n) = 0;
  virtual void sum(double* data, int64_t n) = 0;
  // True on every rank when `flag` is true on any rank.
  virtual bool any(bool flag) = 0;
  // bytes <- rank 0's bytes, on every rank.
  virtual void broadcast(std::string& bytes) = 0;
  // Wall seconds spent inside the calls above so far (communication and waiting).
  virtual double seconds() const = 0;
};

// The rows [begin, end) of a batch of `total` that one rank takes: rank r of s gets
// [total * r / s, total * (r + 1) / s). One process (group null or of size 1) takes all.
struct Shard {
  int64_t begin = 0, end = 0, total = 0;
  int64_t size() const { return end - begin; }
  bool whole() const { return begin == 0 && end == total; }
};
Shard shard_of(int64_t total, const ProcessGroup* group);

// The group whose ranks share the batch of the batch-norm layers run on this thread (null:
// statistics over the local batch only). Set for a scope by the trainer around its training
// forwards; the batch-norm op captures it, so its backward reduces over the same group.
ProcessGroup* batch_group();
class BatchGroupScope {
 public:
  explicit BatchGroupScope(ProcessGroup* group);
  ~BatchGroupScope();
  BatchGroupScope(const BatchGroupScope&) = delete;
  BatchGroupScope& operator=(const BatchGroupScope&) = delete;

 private:
  ProcessGroup* previous_;
};

// `size` ranks that are threads of this process: make() returns one handle per rank, each
// to be used by its own thread (every collective blocks until all ranks have called it).
class LocalProcessGroups {
 public:
  static std::vector<std::unique_ptr<ProcessGroup>> make(int size);
};

}  // namespace sngan
