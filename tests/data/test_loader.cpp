// Loader: batching, per-epoch shuffles, drop_last, prefetch, exact resume.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/loader.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

using testing::MemoryDataset;

struct Step {
  std::vector<Scalar> x;
  std::vector<int> labels;
};

std::vector<Step> take(Loader& loader, int n) {
  std::vector<Step> steps;
  for (int i = 0; i < n; ++i) {
    Step s;
    s.x = loader.next(&s.labels).to_vector();
    steps.push_back(std::move(s));
  }
  return steps;
}

void expect_same(const std::vector<Step>& a, const std::vector<Step>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].labels, b[i].labels) << "batch " << i;
    EXPECT_TRUE(a[i].x == b[i].x) << "batch " << i;
  }
}

LoaderConfig loader_config(int batch, bool drop_last, int prefetch, uint64_t seed = 5) {
  LoaderConfig c;
  c.batch_size = batch;
  c.drop_last = drop_last;
  c.prefetch = prefetch;
  c.seed = seed;
  return c;
}

PreprocessConfig augmenting(int size = 8) {
  PreprocessConfig p;
  p.image_size = size;
  p.channels = 3;
  p.dequantize = true;
  p.random_flip = true;
  return p;
}

TEST(Loader, EveryEpochIsAFreshPermutation) {
  auto ds = std::make_shared<MemoryDataset>(10, 4, 4, 1);
  PreprocessConfig p;
  p.image_size = 4;
  p.channels = 1;
  Loader loader(ds, loader_config(4, /*drop_last=*/false, 0), p);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  std::vector<std::vector<int>> epochs(3);
  for (int e = 0; e < 3; ++e)
    for (int b = 0; b < 3; ++b) {
      std::vector<int> labels;
      const Tensor x = loader.next(&labels);
      EXPECT_EQ(x.shape(), (Shape{b == 2 ? 2 : 4, 1, 4, 4}));
      epochs[static_cast<size_t>(e)].insert(epochs[static_cast<size_t>(e)].end(), labels.begin(), labels.end());
    }
  for (const auto& order : epochs) {
    std::vector<int> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
  EXPECT_NE(epochs[0], epochs[1]);
  EXPECT_NE(epochs[1], epochs[2]);
  EXPECT_EQ(loader.position().epoch, 3);
  EXPECT_EQ(loader.position().index, 0);
}

TEST(Loader, DropLastShuffleOffAndPixelsMatchTheDataset) {
  auto ds = std::make_shared<MemoryDataset>(10, 4, 4, 1);
  PreprocessConfig p;
  p.image_size = 4;
  p.channels = 1;
  LoaderConfig c = loader_config(4, /*drop_last=*/true, 1);
  c.shuffle = false;
  Loader loader(ds, c, p);
  EXPECT_EQ(loader.batches_per_epoch(), 2);
  std::vector<int> labels;
  loader.next(&labels);
  EXPECT_EQ(labels, (std::vector<int>{0, 1, 2, 3}));
  const Tensor x = loader.next(&labels);
  EXPECT_EQ(labels, (std::vector<int>{4, 5, 6, 7}));
  const Example e5 = ds->get(5);
  for (int k = 0; k < 16; ++k) EXPECT_EQ(x[16 + k], static_cast<Scalar>(e5.pixels[static_cast<size_t>(k)] / 127.5 - 1.0));
  loader.next(&labels);
  EXPECT_EQ(labels, (std::vector<int>{0, 1, 2, 3}));  // examples 8 and 9 dropped
}

TEST(Loader, SameSeedSameBatchesOtherSeedOthers) {
  auto ds = std::make_shared<MemoryDataset>(50, 6, 6, 3);
  Loader a(ds, loader_config(8, true, 0, 1), augmenting());
  Loader b(ds, loader_config(8, true, 0, 1), augmenting());
  Loader c(ds, loader_config(8, true, 0, 2), augmenting());
  const auto sa = take(a, 9), sb = take(b, 9), sc = take(c, 9);
  expect_same(sa, sb);
  EXPECT_NE(sa[0].labels, sc[0].labels);
}

TEST(Loader, PrefetchDoesNotChangeTheBatches) {
  auto ds = std::make_shared<MemoryDataset>(37, 6, 6, 3);
  Loader sync(ds, loader_config(5, false, 0), augmenting());
  Loader ahead(ds, loader_config(5, false, 4), augmenting());
  expect_same(take(sync, 20), take(ahead, 20));
}

TEST(Loader, RestoredLoaderSeesExactlyTheSameBatches) {
  auto ds = std::make_shared<MemoryDataset>(23, 6, 6, 3);
  for (int prefetch : {0, 2}) {
    Loader full(ds, loader_config(4, false, prefetch), augmenting());
    std::vector<Step> head = take(full, 4);
    const LoaderPosition saved = full.position();
    EXPECT_EQ(saved.epoch, 0);
    EXPECT_EQ(saved.index, 4);
    const auto tail = take(full, 10);  // crosses two epoch boundaries (6 batches/epoch)

    // A fresh loader (prefetch setting swapped) restored from the text form.
    Loader resumed(ds, loader_config(4, false, 2 - prefetch), augmenting());
    resumed.next();  // it may have run ahead before restoring
    resumed.restore(LoaderPosition::parse(saved.str()));
    EXPECT_EQ(resumed.position(), saved);
    expect_same(take(resumed, 10), tail);
    EXPECT_EQ(resumed.position(), full.position());
  }
}

TEST(Loader, RestoreAtEpochEndEqualsStartOfNextEpoch) {
  auto ds = std::make_shared<MemoryDataset>(12, 6, 6, 3);
  Loader a(ds, loader_config(4, true, 0), augmenting());
  const LoaderPosition start = a.position();
  take(a, 3);
  const LoaderPosition next_epoch = a.position();
  EXPECT_EQ(next_epoch.epoch, 1);
  EXPECT_EQ(next_epoch.index, 0);
  const auto expected = take(a, 2);
  Loader b(ds, loader_config(4, true, 0), augmenting());
  b.restore({0, 3, start.rng_state});
  EXPECT_EQ(b.position(), next_epoch);
  expect_same(take(b, 2), expected);
}

TEST(Loader, BadConfigsAndPositionsAreErrors) {
  auto ds = std::make_shared<MemoryDataset>(10, 4, 4, 1);
  PreprocessConfig p;
  testing::expect_error([&] { Loader(ds, loader_config(0, true, 0), p); }, {"batch_size >= 1", "got 0"});
  testing::expect_error([&] { Loader(ds, loader_config(64, true, 0), p); }, {"batch_size=64", "got 10"});
  Loader ok(ds, loader_config(64, false, 0), p);
  EXPECT_EQ(ok.batches_per_epoch(), 1);
  EXPECT_EQ(ok.next().dim(0), 10);
  testing::expect_error([&] { ok.restore({0, 2, ok.position().rng_state}); }, {"index in [0, 1]", "index=2"});
  testing::expect_error([&] { ok.restore({0, 0, "nonsense"}); }, {"nonsense"});
  // The last epoch of int64 at its end would overflow to the next epoch.
  testing::expect_error([&] { ok.restore({INT64_MAX, 1, ok.position().rng_state}); }, {"epoch in [0, 2^62)"});
  testing::expect_error([&] { LoaderPosition::parse("epoch=1 index=x rng=y"); }, {"epoch=1 index=x"});
}

TEST(Loader, ReadErrorsInThePrefetchThreadReachTheCaller) {
  auto ds = std::make_shared<MemoryDataset>(16, 4, 4, 1, /*throw_at=*/13);
  PreprocessConfig p;
  LoaderConfig c = loader_config(4, true, 2);
  c.shuffle = false;
  Loader loader(ds, c, p);
  take(loader, 3);
  testing::expect_error([&] { loader.next(); }, {"failure at 13"});
  testing::expect_error([&] { loader.next(); }, {"failure at 13"});
  EXPECT_EQ(loader.position().index, 3);
  loader.restore({0, 0, loader.position().rng_state});
  EXPECT_EQ(take(loader, 1)[0].labels, (std::vector<int>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace sngan
