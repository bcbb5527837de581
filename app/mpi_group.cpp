#include "app/mpi_group.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <memory>
#include <vector>

#include "core/tensor/check.h"

#ifdef SNGAN_WITH_MPI
#include <mpi.h>
#endif

namespace sngan {

#ifdef SNGAN_WITH_MPI

namespace {

template <typename T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

// MPI_COMM_WORLD as a ProcessGroup. sum() is a reduce-scatter and an allgather written with
// MPI_Alltoallv and MPI_Allgatherv, so that the order of the additions is fixed: rank r owns
// the r-th of `size` near-equal segments, receives every rank's copy of it, adds them in rank
// order and sends the result to all. Each rank sends and receives (size-1)/size of the data
// twice, as a ring allreduce does.
class MpiGroup : public ProcessGroup {
 public:
  MpiGroup() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const { return local_size_; }
  void sum(float* data, int64_t n) override { sum_impl(data, n); }
  void sum(double* data, int64_t n) override { sum_impl(data, n); }
  bool any(bool flag) override {
    Timer t(seconds_);
    int in = flag ? 1 : 0, out = 0;
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    return out != 0;
  }
  void broadcast(std::string& bytes) override {
    Timer t(seconds_);
    unsigned long long n = bytes.size();
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    bytes.resize(n);
    for (unsigned long long at = 0; at < n; at += INT_MAX / 2) {  // counts are ints
      const int chunk = static_cast<int>(std::min<unsigned long long>(INT_MAX / 2, n - at));
      MPI_Bcast(bytes.data() + at, chunk, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
  }
  double seconds() const override { return seconds_; }

 private:
  struct Timer {
    explicit Timer(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
    ~Timer() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    double& total_;
    std::chrono::steady_clock::time_point start_;
  };

  template <typename T>
  void sum_impl(T* data, int64_t n) {
    if (size_ == 1 || n == 0) return;
    SNGAN_CHECK(n <= INT_MAX, "MPI sum: expected at most ", INT_MAX, " values per call, got ", n);
    Timer t(seconds_);
    const int s = size_;
    std::vector<int> begin(static_cast<size_t>(s) + 1);
    for (int r = 0; r <= s; ++r) begin[r] = static_cast<int>(n * r / s);
    std::vector<int> count(static_cast<size_t>(s)), recv_count(static_cast<size_t>(s)), recv_at(static_cast<size_t>(s));
    const int mine = begin[rank_ + 1] - begin[rank_];
    for (int r = 0; r < s; ++r) {
      count[r] = begin[r + 1] - begin[r];
      recv_count[r] = mine;
      recv_at[r] = r * mine;
    }
    // Every rank's copy of my segment, rank by rank.
    std::vector<T> copies(static_cast<size_t>(mine) * static_cast<size_t>(s));
    MPI_Alltoallv(data, count.data(), begin.data(), mpi_type<T>(), copies.data(), recv_count.data(),
                  recv_at.data(), mpi_type<T>(), MPI_COMM_WORLD);
    T* out = data + begin[rank_];
    for (int i = 0; i < mine; ++i) {
      T v = copies[static_cast<size_t>(i)];
      for (int r = 1; r < s; ++r) v += copies[static_cast<size_t>(r * mine + i)];
      out[i] = v;
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, mpi_type<T>(), data, count.data(), begin.data(), mpi_type<T>(),
                   MPI_COMM_WORLD);
  }

  int rank_ = 0, size_ = 1, local_size_ = 1;
  double seconds_ = 0;
};

std::unique_ptr<MpiGroup> g_world;

// An MPI launcher's environment: Open MPI's mpirun, PMI (MPICH's hydra, srun --mpi=pmi2) or
// PMIx (srun --mpi=pmix, Open MPI 5).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

ProcessGroup* start_mpi(int* argc, char*** argv) {
  if (g_world || !launched_by_mpi()) return g_world.get();
  int provided = 0;
  // Only the main thread calls MPI (OpenMP threads and the loader's thread never do).
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  g_world = std::make_unique<MpiGroup>();
  return g_world.get();
}

ProcessGroup* world_group() { return g_world && g_world->size() > 1 ? g_world.get() : nullptr; }

int ranks_on_this_host() { return g_world ? g_world->local_size() : 1; }

void finish_mpi() {
  if (!g_world) return;
  g_world.reset();
  MPI_Finalize();
}

void abort_all_ranks(int code) {
  if (g_world && g_world->size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

#else  // built without MPI

ProcessGroup* start_mpi(int*, char***) {
  // N copies that each train alone would fight over one run directory: refuse instead.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* n = std::getenv(v);
    if (n && std::atoi(n) > 1)
      throw Error(detail::concat("launched as one of ", n, " MPI ranks, but this sngan was built without MPI "
                                 "(install libopenmpi-dev and rebuild with -DSNGAN_MPI=ON)"));
  }
  return nullptr;
}
ProcessGroup* world_group() { return nullptr; }
int ranks_on_this_host() { return 1; }
void finish_mpi() {}
void abort_all_ranks(int) {}

#endif

}  // namespace sngan
