// Helpers for the data tests: a temporary directory, raw and gzip file writers, and an
// expectation that a call throws sngan::Error whose message contains given parts.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor/check.h"
#include "data/open_dataset.h"

namespace sngan::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sngan-data-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline DatasetConfig data_config(const std::string& format, const std::string& path,
                                 const std::string& split = "train") {
  DatasetConfig c;
  c.format = format;
  c.path = path;
  c.split = split;
  return c;
}

// Deterministic pseudo-random bytes.
inline std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 12345u;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x >> 7);
  }
  return v;
}

// fn must throw sngan::Error whose message contains every part.
inline void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected sngan::Error mentioning '" << (parts.empty() ? "" : parts[0])
                  << "', got no error";
  } catch (const sngan::Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message: " << msg
                                                                           << "\nmissing: " << p;
    EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
    EXPECT_NE(msg.find("got"), std::string::npos) << msg;
  }
}

// In-memory images: example i is h x w x c with pixel k = (i * 37 + k * 11) % 256 and
// label i (so a batch's labels tell which examples it holds). read() throws at throw_at.
class MemoryDataset : public Dataset {
 public:
  MemoryDataset(int64_t n, int h, int w, int c, int64_t throw_at = -1)
      : n_(n), h_(h), w_(w), c_(c), throw_at_(throw_at) {}
  int64_t size() const override { return n_; }
  void read(int64_t i, Example& out) const override {
    check_index(i);
    SNGAN_CHECK(i != throw_at_, "memory: expected a readable example, got a failure at ", i);
    out.height = h_;
    out.width = w_;
    out.channels = c_;
    out.pixels.resize(static_cast<size_t>(h_) * w_ * c_);
    for (size_t k = 0; k < out.pixels.size(); ++k)
      out.pixels[k] = static_cast<uint8_t>((i * 37 + static_cast<int64_t>(k) * 11) % 256);
    out.label = static_cast<int>(i);
  }
  int num_classes() const override { return static_cast<int>(n_); }
  ImageDims dims(int64_t) const override { return {h_, w_, c_}; }
  std::string source(int64_t i) const override { return "memory example " + std::to_string(i); }
  std::string describe() const override { return "memory"; }

 private:
  int64_t n_;
  int h_, w_, c_;
  int64_t throw_at_;
};

}  // namespace sngan::testing
