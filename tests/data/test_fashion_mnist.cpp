// The real Fashion-MNIST training set, where the machine has it.
#include <gtest/gtest.h>

#include "data/loader.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

const char* kDir = "/usr/share/datasets/fashion-mnist";

TEST(FashionMnist, RealTrainingSetHas60000ImagesIn10BalancedClasses) {
  if (!std::filesystem::is_regular_file(std::string(kDir) + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << kDir << " not present";
  std::shared_ptr<const Dataset> ds = open_dataset(testing::data_config("idx", kDir, "train"));
  ASSERT_EQ(ds->size(), 60000);
  EXPECT_EQ(ds->num_classes(), 10);
  EXPECT_EQ(ds->dims(0).height, 28);
  EXPECT_EQ(ds->dims(0).width, 28);
  EXPECT_EQ(ds->dims(0).channels, 1);
  std::vector<int> counts(10, 0);
  Example e;
  uint64_t ink = 0;
  for (int64_t i = 0; i < ds->size(); ++i) {
    ds->read(i, e);
    ++counts[static_cast<size_t>(e.label)];
    if (i < 100)
      for (uint8_t v : e.pixels) ink += v;
  }
  for (int n : counts) EXPECT_EQ(n, 6000);
  EXPECT_GT(ink, 100u * 784 * 30);  // real images, not zeros

  PreprocessConfig p;
  p.image_size = 32;
  p.channels = 1;
  LoaderConfig lc;
  Loader loader(ds, lc, p);
  EXPECT_EQ(loader.batches_per_epoch(), 937);
  const Tensor x = loader.next();
  EXPECT_EQ(x.shape(), (Shape{64, 1, 32, 32}));
  for (int64_t k = 0; k < x.numel(); ++k) ASSERT_TRUE(x[k] >= -1 && x[k] <= 1);
}

}  // namespace
}  // namespace sngan
