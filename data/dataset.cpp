#include "data/dataset.h"

#include "core/tensor/check.h"

namespace sngan {

void Dataset::check_index(int64_t i) const {
  SNGAN_CHECK(i >= 0 && i < size(), describe(), ": expected an example index in [0, ", size(),
              "), got ", i);
}

}  // namespace sngan
