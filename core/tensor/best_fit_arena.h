// Placement of blocks in one growing range of offsets, for the tensor allocation pool.
//
// A request takes the smallest free range that fits (the lowest offset among equal sizes) and
// leaves the rest of that range free; a freed block merges with its free neighbours. The range
// in use, [0, top), grows only when no free range fits, and then first by extending a free
// range that ends at top. Merging is what a cache of exact block sizes cannot do: blocks freed
// by one phase of a training step (the discriminator's 32 MiB activations) serve the next
// phase's larger requests (the generator's 64 MiB ones) instead of sitting idle beside them.
// The arena holds offsets only; the pool maps them onto one reservation of address space.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace sngan {

class BestFitArena {
 public:
  // The offset of a block of `bytes`, or nothing when placing it would take top past `limit`.
  std::optional<size_t> take(size_t bytes, size_t limit);
  // Frees the block at `offset` that take() returned for `bytes`.
  void give(size_t offset, size_t bytes);
  // Lowers top to the start of a free range that ends at it (its memory went back to the
  // system); returns how far top moved.
  size_t trim();

  size_t top() const { return top_; }
  size_t free_bytes() const { return free_bytes_; }
  // The free ranges below top as (offset, size), in offset order.
  std::vector<std::pair<size_t, size_t>> free_ranges() const;

 private:
  void insert_free(size_t offset, size_t bytes);
  void erase_free(std::map<size_t, size_t>::iterator it);

  std::map<size_t, size_t> by_offset_;          // offset -> size of each free range
  std::set<std::pair<size_t, size_t>> by_size_;  // (size, offset) of the same ranges
  size_t top_ = 0;
  size_t free_bytes_ = 0;
};

}  // namespace sngan
