#include "core/tensor/best_fit_arena.h"

#include "core/tensor/check.h"

namespace sngan {

void BestFitArena::insert_free(size_t offset, size_t bytes) {
  by_offset_.emplace(offset, bytes);
  by_size_.emplace(bytes, offset);
  free_bytes_ += bytes;
}

void BestFitArena::erase_free(std::map<size_t, size_t>::iterator it) {
  by_size_.erase({it->second, it->first});
  free_bytes_ -= it->second;
  by_offset_.erase(it);
}

std::optional<size_t> BestFitArena::take(size_t bytes, size_t limit) {
  const auto fit = by_size_.lower_bound({bytes, 0});
  if (fit != by_size_.end()) {
    const auto [size, offset] = *fit;
    erase_free(by_offset_.find(offset));
    if (size > bytes) insert_free(offset + bytes, size - bytes);
    return offset;
  }
  // Nothing fits: grow top, starting from a free range that ends at it.
  size_t offset = top_;
  if (!by_offset_.empty()) {
    const auto last = std::prev(by_offset_.end());
    if (last->first + last->second == top_) offset = last->first;
  }
  if (offset + bytes > limit) return std::nullopt;
  if (offset != top_) erase_free(by_offset_.find(offset));
  top_ = offset + bytes;
  return offset;
}

void BestFitArena::give(size_t offset, size_t bytes) {
  SNGAN_CHECK(bytes > 0 && offset + bytes <= top_, "BestFitArena: block [", offset, ", ",
              offset + bytes, ") lies outside the arena [0, ", top_, ")");
  auto next = by_offset_.lower_bound(offset);
  SNGAN_CHECK(next == by_offset_.end() || next->first >= offset + bytes,
              "BestFitArena: block at ", offset, " overlaps a free range");
  if (next != by_offset_.end() && next->first == offset + bytes) {
    bytes += next->second;
    erase_free(next);
  }
  next = by_offset_.lower_bound(offset);
  if (next != by_offset_.begin()) {
    const auto prev = std::prev(next);
    SNGAN_CHECK(prev->first + prev->second <= offset, "BestFitArena: block at ", offset,
                " overlaps a free range");
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      bytes += prev->second;
      erase_free(prev);
    }
  }
  insert_free(offset, bytes);
}

size_t BestFitArena::trim() {
  if (by_offset_.empty()) return 0;
  const auto last = std::prev(by_offset_.end());
  if (last->first + last->second != top_) return 0;
  const size_t moved = last->second;
  top_ = last->first;
  erase_free(last);
  return moved;
}

std::vector<std::pair<size_t, size_t>> BestFitArena::free_ranges() const {
  return {by_offset_.begin(), by_offset_.end()};
}

}  // namespace sngan
