// AMX tile set-up shared by the peak probe (cpu_info.cpp) and the bf16 GEMM (kernels/gemm_bf16.cpp).
// Call only where cpu_info().amx_bf16 holds (it also asks Linux for the tile registers).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace sngan {

// The tile configuration of AMX's palette 1 (64 bytes).
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// Tiles 0-7 as 16 rows of 64 bytes each: 16x16 fp32, 16x32 bf16 or 16 rows of 16 bf16 pairs.
__attribute__((target("amx-tile"))) inline void configure_full_tiles() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.bytes_per_row[t] = 64;
  }
  _tile_loadconfig(&config);
}

}  // namespace sngan
