// loader_bench: time per batch of 64 at 32x32 from the data loader, against a plain memcpy
// of the same number of output bytes (median of several runs).
//
//   loader_bench [runs=5] [batches_per_run=200]
//
// Cases: Fashion-MNIST train padded 28 -> 32 (grey; read from
// /usr/share/datasets/fashion-mnist, or a synthetic IDX set of the same size if absent)
// and a synthetic CIFAR-like RGB set (10,000 random records in a temporary CIFAR-10 batch
// file), plain and with dequantisation + flips. "sync" is prefetch 0 (the full cost of
// producing a batch on the caller's thread); "prefetch" is the time next() blocks with
// prefetch 2 when the caller does no other work (a training step would hide it entirely).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "data/cifar.h"
#include "data/idx.h"
#include "data/loader.h"
#include "data/open_dataset.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 64;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x >> 32);
  }
  return v;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Seconds per batch for one run of `batches` calls to next().
double time_loader(std::shared_ptr<const sngan::Dataset> ds, const sngan::PreprocessConfig& p,
                   int prefetch, int batches, uint64_t seed) {
  sngan::LoaderConfig lc;
  lc.batch_size = kBatch;
  lc.prefetch = prefetch;
  lc.seed = seed;
  sngan::Loader loader(std::move(ds), lc, p);
  loader.next();  // start-up (first permutation, thread start) is not per-batch cost
  const auto t0 = Clock::now();
  float sink = 0;
  for (int i = 0; i < batches; ++i) sink += loader.next()[0];
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (sink == 12345.f) std::puts("");  // keep the work observable
  return s / batches;
}

// Seconds per memcpy of one batch's float bytes, cycling through a source as large as the
// data set's pixels so the copy is not served from cache.
double time_memcpy(size_t batch_bytes, size_t source_bytes, int batches) {
  std::vector<uint8_t> src = random_bytes(std::max(source_bytes, 2 * batch_bytes), 3);
  std::vector<uint8_t> dst(batch_bytes);
  const size_t slots = src.size() / batch_bytes;
  const auto t0 = Clock::now();
  for (int i = 0; i < batches; ++i) {
    std::memcpy(dst.data(), src.data() + (static_cast<size_t>(i) % slots) * batch_bytes, batch_bytes);
    asm volatile("" : : "r"(dst.data()) : "memory");
  }
  return std::chrono::duration<double>(Clock::now() - t0).count() / batches;
}

void report(const char* name, std::shared_ptr<const sngan::Dataset> ds, const sngan::PreprocessConfig& p,
            int runs, int batches) {
  const size_t batch_bytes = static_cast<size_t>(kBatch) * p.channels * p.image_size * p.image_size * sizeof(sngan::Scalar);
  const size_t source_bytes = static_cast<size_t>(ds->size()) * p.channels * p.image_size * p.image_size * sizeof(sngan::Scalar);
  std::vector<double> sync, ahead, copy;
  for (int r = 0; r < runs; ++r) {
    sync.push_back(time_loader(ds, p, 0, batches, static_cast<uint64_t>(r)));
    ahead.push_back(time_loader(ds, p, 2, batches, static_cast<uint64_t>(r)));
    copy.push_back(time_memcpy(batch_bytes, std::min<size_t>(source_bytes, 256u << 20), batches));
  }
  const double s = median(sync), a = median(ahead), c = median(copy);
  std::printf("%-34s %9.1f %9.1f %9.1f %8.1fx %10.0f\n", name, s * 1e6, a * 1e6, c * 1e6, s / c, kBatch / s);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const int batches = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;
  namespace fs = std::filesystem;
  const fs::path tmp = fs::temp_directory_path() / ("sngan-loader-bench-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  try {
    std::printf("batch %d at 32x32, median of %d runs x %d batches; times in microseconds per batch\n",
                kBatch, runs, batches);
    std::printf("%-34s %9s %9s %9s %9s %10s\n", "case", "sync", "prefetch", "memcpy", "sync/cp", "img/s sync");

    // Fashion-MNIST (or a stand-in of the same shape).
    std::shared_ptr<const sngan::Dataset> fashion;
    const std::string real = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    if (fs::exists(real)) {
      sngan::DatasetConfig dc;
      dc.format = "idx";
      dc.path = "/usr/share/datasets/fashion-mnist";
      fashion = sngan::open_dataset(dc);
    } else {
      std::printf("(Fashion-MNIST not found: using a synthetic 60000 x 28 x 28 IDX set)\n");
      std::vector<uint8_t> images = {0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28};
      const auto px = random_bytes(60000u * 784u, 1);
      images.insert(images.end(), px.begin(), px.end());
      std::vector<uint8_t> labels = {0, 0, 8, 1, 0, 0, 0xea, 0x60};
      labels.resize(8 + 60000, 3);
      write_file((tmp / "train-images-idx3-ubyte").string(), images);
      write_file((tmp / "train-labels-idx1-ubyte").string(), labels);
      fashion = std::make_shared<sngan::IdxDataset>((tmp / "train-images-idx3-ubyte").string(),
                                                    (tmp / "train-labels-idx1-ubyte").string());
    }
    sngan::PreprocessConfig grey;
    grey.image_size = 32;
    grey.channels = 1;
    grey.fit = "pad";
    report("fashion-mnist pad 28->32 grey", fashion, grey, runs, batches);

    // Synthetic CIFAR-like RGB set through the real CIFAR-10 reader.
    std::vector<uint8_t> records = random_bytes(10000u * 3073u, 2);
    for (size_t r = 0; r < 10000; ++r) records[r * 3073] = static_cast<uint8_t>(r % 10);
    const std::string batch_file = (tmp / "data_batch_1.bin").string();
    write_file(batch_file, records);
    std::shared_ptr<const sngan::Dataset> cifar =
        std::make_shared<sngan::CifarDataset>(sngan::CifarKind::kCifar10, std::vector<std::string>{batch_file});
    sngan::PreprocessConfig rgb;
    rgb.image_size = 32;
    rgb.channels = 3;
    report("cifar-like rgb 32x32", cifar, rgb, runs, batches);
    rgb.dequantize = true;
    rgb.random_flip = true;
    report("cifar-like rgb + dequantize + flip", cifar, rgb, runs, batches);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loader_bench: %s\n", e.what());
    fs::remove_all(tmp);
    return 1;
  }
  fs::remove_all(tmp);
  return 0;
}
