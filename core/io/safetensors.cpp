#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/io/atomic_file.h"

namespace sngan {

static_assert(sizeof(Scalar) == 4 && std::numeric_limits<float>::is_iec559,
              "safetensors I/O stores Scalar as IEEE float32 (F32)");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors I/O copies raw bytes and assumes a little-endian host");

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr int kMaxJsonDepth = 8;              // the format needs 3: {"t": {"shape": [...]}}
constexpr uint64_t kMaxDim = uint64_t(1) << 40;  // larger dimension sizes are surely damage

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool parse_hex64(const std::string& s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// The checksum's hash of the header (format "2"): metadata other than the checksum in key
// order, then each tensor's name and shape in name order. `shapes` must be in name order.
uint64_t header_hash(const std::map<std::string, std::string>& metadata,
                     const std::vector<std::pair<std::string, Shape>>& shapes) {
  uint64_t h = 0xcbf29ce484222325ull;
  const char nul = '\0';
  for (const auto& [key, value] : metadata) {
    if (key == kSafetensorsChecksumKey) continue;
    h = safetensors_checksum(key.data(), key.size(), h);
    h = safetensors_checksum(&nul, 1, h);
    h = safetensors_checksum(value.data(), value.size(), h);
    h = safetensors_checksum(&nul, 1, h);
  }
  for (const auto& [name, shape] : shapes) {
    h = safetensors_checksum(name.data(), name.size(), h);
    h = safetensors_checksum(&nul, 1, h);
    for (int i = 0; i < shape.ndim(); ++i) {
      const std::string dim = std::to_string(shape[i]) + ",";
      h = safetensors_checksum(dim.data(), dim.size(), h);
    }
    h = safetensors_checksum(&nul, 1, h);
  }
  return h;
}

// A JSON value for an error message, cut short (a hostile header may be megabytes long).
std::string brief(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() <= 120 ? s : s.substr(0, 117) + "...";
}

std::string cut(const std::string& s) { return s.size() <= 120 ? s : s.substr(0, 117) + "..."; }

// Nesting depth of JSON text outside string literals (decides before parsing whether a
// hostile header could make the parser build a deep tree).
int json_depth(const std::string& s) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

// Where the bytes come from: a file (pread) or memory.
struct Source {
  std::string name;
  uint64_t size = 0;
  std::function<void(uint64_t offset, void* dst, size_t n)> read;
};

template <typename... Parts>
[[noreturn]] void fail(const Source& src, const Parts&... parts) {
  throw Error(detail::concat("cannot read safetensors file '", src.name, "': ", parts...));
}

struct Entry {
  std::string name;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

// A non-negative JSON integer, or an error naming what it should have been.
uint64_t get_u64(const Source& src, const json& j, const std::string& what) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer()) fail(src, "expected ", what, " to be a non-negative integer, got ", brief(j));
  fail(src, "expected ", what, " to be a non-negative integer, got a JSON ", j.type_name(),
       j.is_number() ? " " + brief(j) : std::string());
}

const json& member(const Source& src, const json& obj, const std::string& tensor, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end())
    fail(src, "tensor '", cut(tensor), "': expected a \"", key, "\" entry, got none (entry: ", brief(obj), ")");
  return *it;
}

Entry parse_entry(const Source& src, const std::string& name, const json& obj, uint64_t data_size) {
  if (!obj.is_object())
    fail(src, "tensor '", cut(name), "': expected an object with dtype, shape and data_offsets, got a JSON ",
         obj.type_name());
  Entry e;
  e.name = name;
  const std::string label = cut(name);
  const json& dtype = member(src, obj, name, "dtype");
  if (!dtype.is_string())
    fail(src, "tensor '", label, "': expected \"dtype\" to be a string, got a JSON ", dtype.type_name());
  if (dtype.get<std::string>() != "F32")
    fail(src, "tensor '", label, "': expected dtype \"F32\" (the only dtype supported), got ", brief(dtype));

  const json& shape = member(src, obj, name, "shape");
  if (!shape.is_array())
    fail(src, "tensor '", label, "': expected \"shape\" to be an array, got a JSON ", shape.type_name());
  if (shape.size() > static_cast<size_t>(Shape::kMaxDims))
    fail(src, "tensor '", label, "': expected a shape of at most ", Shape::kMaxDims, " dimensions, got ",
         shape.size());
  std::vector<int64_t> dims;
  uint64_t numel = 1;
  for (const json& d : shape) {
    uint64_t v = get_u64(src, d, "tensor '" + label + "' shape entries");
    if (v > kMaxDim) fail(src, "tensor '", label, "': expected dimension sizes up to ", kMaxDim, ", got ", v);
    dims.push_back(static_cast<int64_t>(v));
    if (__builtin_mul_overflow(numel, v, &numel))
      fail(src, "tensor '", label, "': expected a shape whose size fits in 64 bits, got ", brief(shape));
  }
  e.shape = Shape(dims);

  const json& offsets = member(src, obj, name, "data_offsets");
  if (!offsets.is_array() || offsets.size() != 2)
    fail(src, "tensor '", label, "': expected \"data_offsets\" to be an array [begin, end], got ", brief(offsets));
  e.begin = get_u64(src, offsets[0], "tensor '" + label + "' data_offsets");
  e.end = get_u64(src, offsets[1], "tensor '" + label + "' data_offsets");
  if (e.begin > e.end || e.end > data_size)
    fail(src, "tensor '", label, "': expected data_offsets with begin <= end <= ", data_size,
         " (the size of the data section), got [", e.begin, ", ", e.end, "] (out of range)");
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, uint64_t(4), &nbytes) || nbytes != e.end - e.begin)
    fail(src, "tensor '", label, "': expected data_offsets spanning numel * 4 = ", numel, " * 4 bytes for shape ",
         e.shape.str(), ", got [", e.begin, ", ", e.end, "] (", e.end - e.begin, " bytes)");
  return e;
}

// The header: its length (little-endian u64) checked against the file and the limits, then
// its JSON, which must be an object. Sets *header_len.
json read_header(const Source& src, uint64_t* header_len) {
  if (src.size < 8)
    fail(src, "expected at least 8 bytes (the u64 header length), got a file of ", src.size, " bytes");
  unsigned char len_bytes[8];
  src.read(0, len_bytes, 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > src.size - 8)
    fail(src, "expected a header length of at most ", src.size - 8, " bytes (the rest of the file), got ", n);
  if (n > kSafetensorsMaxHeaderBytes)
    fail(src, "expected a header length of at most ", kSafetensorsMaxHeaderBytes, " bytes, got ", n);
  *header_len = n;

  std::string text(static_cast<size_t>(n), '\0');
  src.read(8, text.data(), text.size());
  if (json_depth(text) > kMaxJsonDepth)
    fail(src, "expected a JSON header nested at most ", kMaxJsonDepth, " levels deep, got deeper nesting");
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& ex) {
    fail(src, "expected the header to be valid JSON, got an error: ", ex.what());
  }
  if (!root.is_object()) fail(src, "expected the header to be a JSON object, got a JSON ", root.type_name());
  return root;
}

// "__metadata__": null, or an object of strings, copied into *out.
void read_metadata(const Source& src, const json& meta, std::map<std::string, std::string>* out) {
  if (meta.is_null()) return;
  if (!meta.is_object())
    fail(src, "expected \"__metadata__\" to be an object of strings, got a JSON ", meta.type_name());
  for (auto m = meta.begin(); m != meta.end(); ++m) {
    if (!m->is_string())
      fail(src, "expected \"__metadata__\" values to be strings, got a JSON ", m->type_name(), " for key '",
           cut(m.key()), "'");
    (*out)[m.key()] = m->get<std::string>();
  }
}

// Tensors must tile the data section exactly: sorted by offset (sorts `entries`), each starting
// where the previous one ended, the first at 0 and the last ending at the end of the file.
void check_tiling(const Source& src, std::vector<Entry>& entries, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < expected)
      fail(src, "tensor '", cut(e.name), "': expected data_offsets starting at ", expected, " (the end of tensor '",
           cut(prev->name), "'), got [", e.begin, ", ", e.end, "], which overlaps it");
    if (e.begin > expected)
      fail(src, "tensor '", cut(e.name), "': expected data_offsets starting at ", expected,
           " (tensors packed back to back), got [", e.begin, ", ", e.end, "], leaving a gap");
    expected = e.end;
    prev = &e;
  }
  if (expected != data_size)
    fail(src, "expected the data section to end with the last tensor at byte ", expected, ", got ", data_size,
         " bytes (", data_size - expected, " bytes of trailing garbage)");
}

// Reads every tensor's data into out->tensors (the data section starts at `data_start`) and
// verifies the checksum in out->metadata when there is one.
void read_tensors(const Source& src, const std::vector<Entry>& entries, uint64_t data_start,
                  TensorFile* out) {
  auto format = out->metadata.find(kSafetensorsFormatKey);
  if (format != out->metadata.end() && format->second != "1" && format->second != kSafetensorsFormatVersion)
    fail(src, "expected \"", kSafetensorsFormatKey, "\" \"1\" or \"", kSafetensorsFormatVersion,
         "\" (the versions this build reads), got \"", cut(format->second), "\"");
  const bool data_only_checksum = format != out->metadata.end() && format->second == "1";
  auto checksum = out->metadata.find(kSafetensorsChecksumKey);
  uint64_t stored = 0;
  if (checksum != out->metadata.end() && !parse_hex64(checksum->second, &stored))
    fail(src, "expected \"", kSafetensorsChecksumKey, "\" to be 16 hex digits, got \"", cut(checksum->second), "\"");

  uint64_t hash = 0xcbf29ce484222325ull;
  if (checksum != out->metadata.end() && !data_only_checksum) {
    std::vector<std::pair<std::string, Shape>> shapes;
    for (const Entry& e : entries) shapes.emplace_back(e.name, e.shape);
    std::sort(shapes.begin(), shapes.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    hash = header_hash(out->metadata, shapes);
  }
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape);
    const size_t nbytes = static_cast<size_t>(e.end - e.begin);
    if (nbytes > 0) src.read(data_start + e.begin, t.data(), nbytes);
    hash = safetensors_checksum(t.data(), nbytes, hash);
    out->tensors[e.name] = t;
  }
  if (checksum != out->metadata.end() && hash != stored)
    fail(src, "damaged: checksum mismatch (expected ", kSafetensorsChecksumKey, " ", hex64(stored),
         " from the header, got ", hex64(hash), " computed over the ",
         data_only_checksum ? "data section)" : "metadata, tensor names, shapes and data)");
}

TensorFile parse(const Source& src) {
  uint64_t n = 0;
  const json root = read_header(src, &n);
  const uint64_t data_size = src.size - 8 - n;
  TensorFile out;
  std::vector<Entry> entries;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__")
      read_metadata(src, it.value(), &out.metadata);
    else
      entries.push_back(parse_entry(src, it.key(), it.value(), data_size));
  }
  check_tiling(src, entries, data_size);
  // Only now, with every size checked against the file, allocate and read the data.
  read_tensors(src, entries, 8 + n, &out);
  return out;
}

}  // namespace

uint64_t safetensors_checksum(const void* data, size_t size, uint64_t hash) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

TensorFile parse_safetensors(const void* data, size_t size, const std::string& source) {
  Source src;
  src.name = source;
  src.size = size;
  src.read = [data](uint64_t offset, void* dst, size_t n) {
    std::memcpy(dst, static_cast<const char*>(data) + offset, n);
  };
  return parse(src);
}

TensorFile read_safetensors(const std::string& path) {
  Source src;
  src.name = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(src, "expected a readable file, got an error: ", std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) fail(src, "expected a readable file, got an error: ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(src, "expected a regular file, got a directory or special file");
  src.size = static_cast<uint64_t>(st.st_size);
  src.read = [&src, fd](uint64_t offset, void* dst, size_t n) {
    char* p = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t k = ::pread(fd, p, n, static_cast<off_t>(offset));
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) fail(src, "expected to read ", n, " bytes at offset ", offset, ", got an error: ", std::strerror(errno));
      if (k == 0) fail(src, "expected ", n, " more bytes at offset ", offset, ", got the end of the file (truncated while reading?)");
      p += k;
      n -= static_cast<size_t>(k);
      offset += static_cast<uint64_t>(k);
    }
  };
  return parse(src);
}

void write_safetensors(const std::string& path, const TensorFile& file) {
  auto fail_write = [&path](const std::string& msg) {
    throw Error("cannot write safetensors file '" + path + "': " + msg);
  };
  std::map<std::string, std::string> meta = file.metadata;  // sorted: same input, same bytes
  meta[kSafetensorsFormatKey] = kSafetensorsFormatVersion;
  std::vector<std::pair<std::string, Shape>> shapes;
  for (const auto& [name, t] : file.tensors) {
    if (name == "__metadata__") fail_write("expected tensor names other than \"__metadata__\", got that name");
    if (!t.defined()) fail_write("expected defined tensors, got an undefined tensor '" + name + "'");
    shapes.emplace_back(name, t.shape());
  }
  ordered_json header = ordered_json::object();
  header["__metadata__"] = nullptr;  // keeps its place first; filled in once the hash is known
  uint64_t offset = 0, hash = header_hash(meta, shapes);
  for (const auto& [name, t] : file.tensors) {
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    hash = safetensors_checksum(t.data(), static_cast<size_t>(nbytes), hash);
    header[name] = {{"dtype", "F32"}, {"shape", t.shape().to_vector()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  meta[kSafetensorsChecksumKey] = hex64(hash);
  header["__metadata__"] = meta;

  std::string text;
  try {
    text = header.dump();
  } catch (const ordered_json::exception& ex) {
    fail_write(std::string("expected tensor names and metadata in valid UTF-8, got an error: ") + ex.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(uint64_t(text.size()) >> (8 * i));

  AtomicFileWriter w(path);
  w.write(len_bytes, 8);
  w.write(text);
  for (const auto& item : file.tensors)
    w.write(item.second.data(), static_cast<size_t>(item.second.numel()) * sizeof(float));
  w.commit();
}

}  // namespace sngan
