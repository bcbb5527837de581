#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/tensor/check.h"
#include "data/file_io.h"

namespace sngan {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to n bytes; returns the count read. Sets *error to zlib's message on failure.
size_t gz_read_fully(gzFile f, uint8_t* dst, size_t n, std::string* error) {
  size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, dst + done, chunk);
    if (got <= 0) {
      int code = Z_OK;
      const char* msg = gzerror(f, &code);
      if (code != Z_OK && code != Z_STREAM_END) *error = msg ? msg : "zlib error";
      break;
    }
    done += static_cast<size_t>(got);
  }
  return done;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

std::string why(const std::string& zlib_error) {
  return zlib_error.empty() ? " (file truncated)" : " (corrupt gzip stream: " + zlib_error + ")";
}

}  // namespace

IdxArray read_idx_u8(const std::string& path, int expected_ndim) {
  const std::string what = "an IDX file";
  regular_file_size(path, what);
  GzFile file(gzopen(path.c_str(), "rb"));
  SNGAN_CHECK(file != nullptr, path, ": expected ", what, " readable by this user, got ",
              std::strerror(errno));
  gzbuffer(file.get(), 1 << 18);

  std::string zerr;
  uint8_t magic[4];
  const size_t got_magic = gz_read_fully(file.get(), magic, 4, &zerr);
  SNGAN_CHECK(got_magic == 4, path, ": expected a 4-byte IDX magic number, got ", got_magic,
              " bytes", why(zerr));
  const uint32_t magic_value = (uint32_t(magic[0]) << 24) | (uint32_t(magic[1]) << 16) |
                               (uint32_t(magic[2]) << 8) | uint32_t(magic[3]);
  const uint32_t expected_magic = 0x0800u | static_cast<uint32_t>(expected_ndim);
  SNGAN_CHECK(magic_value == expected_magic, path, ": expected IDX magic ", hex32(expected_magic),
              " (unsigned bytes, ", expected_ndim, " dimensions), got ", hex32(magic_value));

  IdxArray out;
  uint64_t total = 1;
  for (int d = 0; d < expected_ndim; ++d) {
    uint8_t b[4];
    const size_t got = gz_read_fully(file.get(), b, 4, &zerr);
    SNGAN_CHECK(got == 4, path, ": expected a ", 4 + 4 * expected_ndim,
                "-byte IDX header, got ", 4 + 4 * d + static_cast<int>(got), " bytes", why(zerr));
    const uint32_t n = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) |
                       uint32_t(b[3]);
    SNGAN_CHECK(n > 0 && n < (1u << 28), path, ": expected dimension ", d,
                " of the IDX header in [1, 2^28), got ", n);
    out.dims.push_back(n);
    total *= n;
  }
  SNGAN_CHECK(total < (uint64_t(1) << 36), path, ": expected at most 2^36 bytes of data, got ",
              total, " announced by the header");

  // Grow the buffer as the data arrive: a header may announce far more than the file holds
  // (up to 2^36 bytes), and allocating that up front would fail or exhaust memory.
  constexpr size_t kChunk = size_t(1) << 26;
  size_t got = 0;
  while (got < total) {
    const size_t want = std::min(static_cast<size_t>(total) - got, kChunk);
    out.data.resize(got + want);
    const size_t n = gz_read_fully(file.get(), out.data.data() + got, want, &zerr);
    got += n;
    if (n < want) break;
  }
  out.data.resize(got);
  std::string shape;
  for (size_t d = 0; d < out.dims.size(); ++d) shape += (d ? " x " : "") + std::to_string(out.dims[d]);
  SNGAN_CHECK(got == total, path, ": expected ", total, " bytes of data after the header (",
              shape, "), got ", got, why(zerr));
  uint8_t extra[1];
  const size_t more = gz_read_fully(file.get(), extra, 1, &zerr);
  SNGAN_CHECK(more == 0 && zerr.empty(), path, ": expected the data to end after ", total,
              " bytes (", shape, "), got ", zerr.empty() ? "more bytes" : "a corrupt gzip stream: " + zerr);
  return out;
}

IdxPaths resolve_idx_paths(const std::string& path, const std::string& split,
                           const std::string& labels_path) {
  IdxPaths p;
  if (is_directory(path)) {
    SNGAN_CHECK(split == "train" || split == "test", path,
                ": expected split 'train' or 'test' for IDX data, got '", split, "'");
    const std::string prefix = split == "train" ? "train" : "t10k";
    auto pick = [&](const std::string& stem) {
      const std::string plain = join_path(path, prefix + stem);
      return is_regular_file(plain + ".gz") ? plain + ".gz" : plain;
    };
    p.images = pick("-images-idx3-ubyte");
    p.labels = labels_path.empty() ? pick("-labels-idx1-ubyte") : labels_path;
    return p;
  }
  regular_file_size(path, "an IDX data directory or images file");  // names a missing path
  p.images = path;
  if (!labels_path.empty()) {
    p.labels = labels_path;
    return p;
  }
  const std::string from = "images-idx3", to = "labels-idx1";
  const size_t slash = path.find_last_of('/');
  const size_t at = path.rfind(from);
  SNGAN_CHECK(at != std::string::npos && (slash == std::string::npos || at > slash), path,
              ": expected an IDX images file named '*images-idx3*' (so the labels file can be "
              "found) or an explicit labels path, got neither");
  p.labels = path.substr(0, at) + to + path.substr(at + from.size());
  return p;
}

IdxDataset::IdxDataset(const std::string& images_path, const std::string& labels_path)
    : images_path_(images_path) {
  IdxArray images = read_idx_u8(images_path, 3);
  IdxArray labels = read_idx_u8(labels_path, 1);
  SNGAN_CHECK(labels.dims[0] == images.dims[0], labels_path, ": expected ", images.dims[0],
              " labels (one per image of ", images_path, "), got ", labels.dims[0]);
  count_ = images.dims[0];
  height_ = static_cast<int>(images.dims[1]);
  width_ = static_cast<int>(images.dims[2]);
  pixels_ = std::move(images.data);
  labels_ = std::move(labels.data);
  num_classes_ = 1 + *std::max_element(labels_.begin(), labels_.end());
}

void IdxDataset::read(int64_t i, Example& out) const {
  check_index(i);
  const size_t n = static_cast<size_t>(height_) * static_cast<size_t>(width_);
  out.height = height_;
  out.width = width_;
  out.channels = 1;
  out.pixels.assign(pixels_.begin() + static_cast<ptrdiff_t>(n * static_cast<size_t>(i)),
                    pixels_.begin() + static_cast<ptrdiff_t>(n * static_cast<size_t>(i + 1)));
  out.features.clear();
  out.label = labels_[static_cast<size_t>(i)];
}

std::string IdxDataset::source(int64_t i) const {
  return images_path_ + " image " + std::to_string(i);
}

std::string IdxDataset::describe() const {
  return "idx " + images_path_ + " (" + std::to_string(count_) + " images " +
         std::to_string(height_) + "x" + std::to_string(width_) + "x1, " +
         std::to_string(num_classes_) + " classes)";
}

}  // namespace sngan
