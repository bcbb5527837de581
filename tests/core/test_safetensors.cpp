// Checkpoint format (core/io/safetensors) and atomic file replacement (core/io/atomic_file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/io/atomic_file.h"
#include "core/io/safetensors.h"

namespace fs = std::filesystem;
using namespace sngan;

namespace {

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sngan_io_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string u64le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string floats_le(const std::vector<float>& v) {
  std::string s;
  for (float f : v) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  return s;
}

// A safetensors file assembled by hand, the way the reference implementation lays it out.
std::string assemble(const std::string& header_json, const std::string& data, bool pad = true) {
  std::string header = header_json;
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  return u64le(header.size()) + header + data;
}

// FNV-1a 64, written out independently of the library.
uint64_t fnv1a(const std::string& bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(gen);
  return t;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * 4) == 0;
}

// Runs f, expecting sngan::Error whose message names path and contains every part.
void expect_error(const std::function<void()>& f, const std::string& path, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected sngan::Error mentioning '" << (parts.empty() ? "" : parts[0]) << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << "message does not name the path: " << msg;
    for (const std::string& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << "missing '" << part << "' in: " << msg;
  }
}

// Restores the real system calls when a test ends.
struct HookGuard {
  explicit HookGuard(const detail::AtomicFileHooks& h) { detail::set_atomic_file_hooks_for_testing(h); }
  ~HookGuard() { detail::set_atomic_file_hooks_for_testing({}); }
};

TensorFile sample_file() {
  TensorFile f;
  f.tensors["scalar"] = Tensor::from_vector(Shape{}, {2.5f});
  f.tensors["vec"] = Tensor::from_vector(Shape{5}, {1.f, -0.f, std::numeric_limits<float>::infinity(),
                                                    std::numeric_limits<float>::quiet_NaN(), 1e-42f});
  f.tensors["generator.blocks.0.conv.weight"] = random_tensor(Shape{2, 3, 4, 5}, 1);
  f.tensors["empty"] = Tensor::empty(Shape{0, 3});
  f.metadata["step"] = "1234";
  f.metadata["config"] = "{\"lr\": 0.0002, \"betas\": [0.0, 0.9]}";
  f.metadata["note"] = "h\xc3\xa9llo \"quoted\"\n";
  return f;
}

}  // namespace

// ---- safetensors ----

TEST(Safetensors, ChecksumIsFnv1a64) {
  EXPECT_EQ(safetensors_checksum("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(safetensors_checksum("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(safetensors_checksum("foobar", 6), 0x85944171f73967e8ull);
  // Chaining over pieces equals hashing the whole.
  EXPECT_EQ(safetensors_checksum("bar", 3, safetensors_checksum("foo", 3)), 0x85944171f73967e8ull);
}

TEST(Safetensors, RoundTripIsExact) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  const TensorFile in = sample_file();
  write_safetensors(path, in);
  const TensorFile out = read_safetensors(path);

  ASSERT_EQ(out.tensors.size(), in.tensors.size());
  for (const auto& [name, t] : in.tensors) {
    ASSERT_EQ(out.tensors.count(name), 1u) << name;
    EXPECT_TRUE(same_bits(out.tensors.at(name), t)) << name << " " << out.tensors.at(name).shape().str();
  }
  EXPECT_EQ(out.tensors.at("scalar").ndim(), 0);
  EXPECT_EQ(out.tensors.at("vec").ndim(), 1);
  EXPECT_EQ(out.tensors.at("empty").shape(), (Shape{0, 3}));
  for (const auto& [key, value] : in.metadata) EXPECT_EQ(out.metadata.at(key), value) << key;
  EXPECT_EQ(out.metadata.at("sngan_format"), "2");
  EXPECT_EQ(out.metadata.at("sngan_checksum").size(), 16u);
  EXPECT_EQ(out.metadata.size(), in.metadata.size() + 2);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"});  // no temp file left

  // Writing what was read gives the same bytes again.
  write_safetensors(dir.file("again.safetensors"), out);
  EXPECT_EQ(read_bytes(dir.file("again.safetensors")), read_bytes(path));
}

TEST(Safetensors, EmptyFileRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("empty.safetensors");
  write_safetensors(path, TensorFile{});
  const TensorFile out = read_safetensors(path);
  EXPECT_TRUE(out.tensors.empty());
  // Only the format entry is hashed: "sngan_format" NUL "2" NUL.
  using namespace std::string_literals;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a("sngan_format\0" "2\0"s)));
  EXPECT_EQ(out.metadata.at("sngan_checksum"), hex);
}

// The bytes on disk, checked against the format description with an independent parser.
TEST(Safetensors, ByteLayoutFollowsTheSpec) {
  TempDir dir;
  const std::string path = dir.file("layout.safetensors");
  TensorFile f;
  f.tensors["b"] = Tensor::from_vector(Shape{1, 1}, {3.f});
  f.tensors["a"] = Tensor::from_vector(Shape{2}, {1.f, -2.f});
  f.metadata["step"] = "7";
  write_safetensors(path, f);
  const std::string bytes = read_bytes(path);

  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ((8 + n) % 8, 0u) << "data section must start 8-byte aligned";
  ASSERT_LE(8 + n, bytes.size());
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  const size_t last = header.find_last_not_of(' ');
  EXPECT_EQ(header[last], '}');
  EXPECT_LT(header.size() - last - 1, 8u) << "padding is fewer than 8 spaces";

  const nlohmann::json j = nlohmann::json::parse(header);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["a"]["dtype"], "F32");
  EXPECT_EQ(j["a"]["shape"], nlohmann::json::array({2}));
  EXPECT_EQ(j["a"]["data_offsets"], nlohmann::json::array({0, 8}));
  EXPECT_EQ(j["b"]["dtype"], "F32");
  EXPECT_EQ(j["b"]["shape"], nlohmann::json::array({1, 1}));
  EXPECT_EQ(j["b"]["data_offsets"], nlohmann::json::array({8, 12}));
  const nlohmann::json& meta = j["__metadata__"];
  ASSERT_TRUE(meta.is_object());
  for (const auto& item : meta.items()) EXPECT_TRUE(item.value().is_string()) << item.key();
  EXPECT_EQ(meta["step"], "7");
  EXPECT_EQ(meta["sngan_format"], "2");

  const std::string data = bytes.substr(8 + n);
  EXPECT_EQ(data, floats_le({1.f, -2.f, 3.f}));
  // The checksum covers metadata (key order, without the checksum), names and shapes (name
  // order), then the data.
  using namespace std::string_literals;
  const std::string hashed = "sngan_format\0" "2\0" "step\0" "7\0"s + "a\0" "2,\0" "b\0" "1,1,\0"s + data;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(hashed)));
  EXPECT_EQ(meta["sngan_checksum"], hex);
}

// A file built byte by byte as another writer (Python) would: no sngan metadata, no padding
// beyond what the header happens to have, metadata after the tensors.
TEST(Safetensors, ReadsAHandAssembledFile) {
  TempDir dir;
  const std::string path = dir.file("python.safetensors");
  const std::string header =
      R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("s":{"shape":[],"dtype":"F32","data_offsets":[16,20]},"z":{"dtype":"F32","shape":[0],"data_offsets":[20,20]},)"
      R"("__metadata__":{"format":"pt"}})";
  for (bool pad : {true, false}) {
    write_bytes(path, assemble(header, floats_le({1.f, 2.f, 3.f, 4.f, -5.5f}), pad));
    const TensorFile f = read_safetensors(path);
    ASSERT_EQ(f.tensors.size(), 3u);
    EXPECT_EQ(f.tensors.at("w").shape(), (Shape{2, 2}));
    EXPECT_EQ(f.tensors.at("w").to_vector(), (std::vector<Scalar>{1.f, 2.f, 3.f, 4.f}));
    EXPECT_EQ(f.tensors.at("s").ndim(), 0);
    EXPECT_EQ(f.tensors.at("s").item(), -5.5f);
    EXPECT_EQ(f.tensors.at("z").numel(), 0);
    EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  }
  // Tensors listed out of offset order, and no metadata at all.
  write_bytes(path, assemble(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                             floats_le({10.f, 20.f})));
  const TensorFile g = read_safetensors(path);
  EXPECT_EQ(g.tensors.at("a").item(), 10.f);
  EXPECT_EQ(g.tensors.at("b").item(), 20.f);
  EXPECT_TRUE(g.metadata.empty());
}

struct BadCase {
  const char* what;
  std::string bytes;
  std::vector<std::string> message;  // substrings the error must contain
};

TEST(Safetensors, BadInputsGiveErrorsNamingThePath) {
  auto entry = [](const std::string& body) { return "{\"t\":{" + body + "}}"; };
  const std::string f4 = floats_le({1.f});
  const std::vector<BadCase> cases = {
      {"empty file", "", {"at least 8 bytes", "got a file of 0 bytes"}},
      {"short file", "abcde", {"at least 8 bytes", "5 bytes"}},
      {"header length beyond file", u64le(100) + "{}", {"header length of at most 2 bytes", "got 100"}},
      {"header length huge", u64le(~0ull) + "{}", {"header length", "18446744073709551615"}},
      {"not JSON", assemble("{\"t\": nope}", ""), {"valid JSON"}},
      {"invalid UTF-8", assemble("{\"\xff\xfe\":{}}", ""), {"valid JSON"}},
      {"JSON array", assemble("[1,2]", ""), {"JSON object", "array"}},
      {"deep nesting", assemble(std::string(100, '[') + std::string(100, ']'), ""), {"nested at most"}},
      {"entry not an object", assemble("{\"t\":3}", ""), {"tensor 't'", "expected an object"}},
      {"missing dtype", assemble(entry(R"("shape":[1],"data_offsets":[0,4])"), f4), {"\"dtype\" entry"}},
      {"dtype not a string", assemble(entry(R"("dtype":7,"shape":[1],"data_offsets":[0,4])"), f4),
       {"\"dtype\" to be a string"}},
      {"dtype F16", assemble(entry(R"("dtype":"F16","shape":[2],"data_offsets":[0,4])"), f4),
       {"expected dtype \"F32\"", "only dtype supported", "\"F16\""}},
      {"missing shape", assemble(entry(R"("dtype":"F32","data_offsets":[0,4])"), f4), {"\"shape\" entry"}},
      {"shape not an array", assemble(entry(R"("dtype":"F32","shape":1,"data_offsets":[0,4])"), f4),
       {"\"shape\" to be an array"}},
      {"negative dim", assemble(entry(R"("dtype":"F32","shape":[-1],"data_offsets":[0,4])"), f4),
       {"non-negative integer", "-1"}},
      {"fractional dim", assemble(entry(R"("dtype":"F32","shape":[1.5],"data_offsets":[0,4])"), f4),
       {"non-negative integer", "1.5"}},
      {"string dim", assemble(entry(R"("dtype":"F32","shape":["1"],"data_offsets":[0,4])"), f4),
       {"non-negative integer", "string"}},
      {"absurd dim", assemble(entry(R"("dtype":"F32","shape":[1125899906842624],"data_offsets":[0,4])"), f4),
       {"dimension sizes up to"}},
      {"dims overflow", assemble(entry(R"("dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4])"), f4),
       {"fits in 64 bits"}},
      {"seven dims", assemble(entry(R"("dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4])"), f4),
       {"at most 6 dimensions", "got 7"}},
      {"missing offsets", assemble(entry(R"("dtype":"F32","shape":[1])"), f4), {"\"data_offsets\" entry"}},
      {"offsets of 3", assemble(entry(R"("dtype":"F32","shape":[1],"data_offsets":[0,4,8])"), f4),
       {"[begin, end]"}},
      {"negative offset", assemble(entry(R"("dtype":"F32","shape":[1],"data_offsets":[-4,4])"), f4),
       {"non-negative integer"}},
      {"offsets reversed", assemble(entry(R"("dtype":"F32","shape":[1],"data_offsets":[4,0])"), f4 + f4),
       {"out of range", "[4, 0]"}},
      {"offsets beyond data", assemble(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])"), f4),
       {"out of range", "<= 4"}},
      {"size not numel*4", assemble(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,4])"), f4),
       {"numel * 4", "(4 bytes)"}},
      {"overlap", assemble(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", f4 + f4 + f4),
       {"overlaps", "tensor 'b'", "tensor 'a'"}},
      {"gap", assemble(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", f4 + f4 + f4),
       {"gap", "tensor 'b'"}},
      {"gap at start", assemble(entry(R"("dtype":"F32","shape":[1],"data_offsets":[4,8])"), f4 + f4), {"gap"}},
      {"trailing garbage", assemble(entry(R"("dtype":"F32","shape":[1],"data_offsets":[0,4])"), f4 + "xyz"),
       {"trailing garbage", "3 bytes"}},
      {"metadata not an object", assemble("{\"__metadata__\":[1]}", ""), {"\"__metadata__\" to be an object"}},
      {"metadata value not a string", assemble("{\"__metadata__\":{\"step\":5}}", ""),
       {"values to be strings", "'step'"}},
      {"future format", assemble("{\"__metadata__\":{\"sngan_format\":\"3\"}}", ""), {"sngan_format", "\"3\""}},
      {"malformed checksum", assemble("{\"__metadata__\":{\"sngan_checksum\":\"xyz\"}}", ""), {"16 hex digits"}},
      {"wrong checksum", assemble("{\"__metadata__\":{\"sngan_checksum\":\"0000000000000000\"}}", ""),
       {"damaged: checksum mismatch"}},
  };
  TempDir dir;
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.file("bad.safetensors");
    write_bytes(path, c.bytes);
    expect_error([&] { read_safetensors(path); }, path, c.message);
    // The in-memory parser agrees.
    expect_error([&] { parse_safetensors(c.bytes.data(), c.bytes.size(), "mem"); }, "mem", c.message);
  }
  expect_error([&] { read_safetensors(dir.file("missing.safetensors")); }, dir.file("missing.safetensors"),
               {"No such file or directory"});
  expect_error([&] { read_safetensors(dir.path()); }, dir.path(), {"regular file"});
}

TEST(Safetensors, HeaderAboveTheCapIsRefusedBeforeParsing) {
  std::string bytes = u64le(kSafetensorsMaxHeaderBytes + 8) + std::string(kSafetensorsMaxHeaderBytes + 8, ' ');
  expect_error([&] { parse_safetensors(bytes.data(), bytes.size(), "big"); }, "big",
               {"header length of at most " + std::to_string(kSafetensorsMaxHeaderBytes)});
}

TEST(Safetensors, FlippedDataByteIsRefusedAsDamaged) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  write_safetensors(path, sample_file());
  std::string bytes = read_bytes(path);
  bytes[bytes.size() - 7] = static_cast<char>(bytes[bytes.size() - 7] ^ 0x10);
  write_bytes(path, bytes);
  expect_error([&] { read_safetensors(path); }, path, {"damaged: checksum mismatch"});
}

// A changed metadata value or shape is caught, not only changed data.
TEST(Safetensors, ChangedMetadataOrShapeIsRefusedAsDamaged) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  TensorFile f;
  f.tensors["w"] = Tensor::from_vector(Shape{2, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f});
  f.metadata["iteration"] = "1200";
  write_safetensors(path, f);
  const std::string bytes = read_bytes(path);
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"1200\"", "\"1300\""}, {"[2,3]", "[3,2]"}}) {
    SCOPED_TRACE(from);
    std::string changed = bytes;
    const size_t at = changed.find(from);
    ASSERT_NE(at, std::string::npos);
    changed.replace(at, from.size(), to);
    write_bytes(path, changed);
    expect_error([&] { read_safetensors(path); }, path, {"damaged: checksum mismatch", "metadata"});
  }
}

// Files of format "1" (checksum over the data section only) are still read.
TEST(Safetensors, ReadsFormatOneWithItsDataOnlyChecksum) {
  TempDir dir;
  const std::string path = dir.file("v1.safetensors");
  const std::string data = floats_le({1.f, 2.f});
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(data)));
  const std::string header = std::string(R"({"__metadata__":{"sngan_checksum":")") + hex +
                             R"(","sngan_format":"1","step":"3"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  write_bytes(path, assemble(header, data));
  const TensorFile f = read_safetensors(path);
  EXPECT_EQ(f.tensors.at("a").to_vector(), (std::vector<Scalar>{1.f, 2.f}));
  EXPECT_EQ(f.metadata.at("step"), "3");
  write_bytes(path, assemble(header, floats_le({1.f, 3.f})));
  expect_error([&] { read_safetensors(path); }, path, {"damaged: checksum mismatch", "data section"});
}

// Every truncation and every single-byte change of a valid file either parses or throws
// sngan::Error: never a crash, never another exception type.
TEST(Safetensors, DamagedFilesNeverCrash) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  TensorFile f;
  f.tensors["a"] = random_tensor(Shape{3, 2}, 2);
  f.tensors["b"] = Tensor::from_vector(Shape{}, {1.f});
  f.metadata["k"] = "v";
  write_safetensors(path, f);
  const std::string good = read_bytes(path);
  for (size_t len = 0; len < good.size(); ++len)
    EXPECT_THROW(parse_safetensors(good.data(), len, "cut"), Error) << "length " << len;
  int parsed = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ x);
      try {
        parse_safetensors(bad.data(), bad.size(), "flip");
        ++parsed;
      } catch (const Error&) {
      }
    }
  }
  // Only header changes that keep the JSON meaningful (e.g. in a metadata value) may parse.
  EXPECT_LT(parsed, static_cast<int>(good.size()));
}

TEST(Safetensors, WriteRefusesBadInputAndNamesThePath) {
  TempDir dir;
  const std::string path = dir.file("out.safetensors");
  TensorFile reserved;
  reserved.tensors["__metadata__"] = Tensor::zeros(Shape{1});
  expect_error([&] { write_safetensors(path, reserved); }, path, {"__metadata__"});
  TensorFile undefined;
  undefined.tensors["w"] = Tensor();
  expect_error([&] { write_safetensors(path, undefined); }, path, {"undefined tensor 'w'"});
  TensorFile bad_utf8;
  bad_utf8.metadata["k"] = "\xff";
  expect_error([&] { write_safetensors(path, bad_utf8); }, path, {"UTF-8"});
  EXPECT_TRUE(dir.entries().empty());
}

// ---- atomic file replacement ----

TEST(AtomicFile, WritesAndReplaces) {
  TempDir dir;
  const std::string path = dir.file("a.txt");
  write_file_atomic(path, std::string("first"));
  EXPECT_EQ(read_bytes(path), "first");
  write_file_atomic(path, std::string("second, longer"));
  EXPECT_EQ(read_bytes(path), "second, longer");
  write_file_atomic(path, std::string());
  EXPECT_EQ(read_bytes(path), "");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.txt"});
}

TEST(AtomicFile, StreamingWriterHandlesSmallAndLargePieces) {
  TempDir dir;
  const std::string path = dir.file("big.bin");
  std::string expected;
  std::mt19937 gen(3);
  AtomicFileWriter w(path);
  for (size_t size : {size_t(1), size_t(10), size_t(70000), size_t(3), size_t(1) << 20, size_t(65536), size_t(5)}) {
    std::string piece(size, '\0');
    for (char& c : piece) c = static_cast<char>(gen());
    w.write(piece);
    expected += piece;
  }
  EXPECT_FALSE(fs::exists(path));  // nothing visible before commit
  EXPECT_TRUE(fs::exists(w.temp_path()));
  w.commit();
  EXPECT_EQ(read_bytes(path), expected);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"big.bin"});
}

TEST(AtomicFile, AbandonedWriterLeavesNothing) {
  TempDir dir;
  const std::string path = dir.file("a.txt");
  write_file_atomic(path, std::string("old"));
  {
    AtomicFileWriter w(path);
    w.write(std::string("new"));
  }
  EXPECT_EQ(read_bytes(path), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.txt"});
}

TEST(AtomicFile, MissingDirectoryFails) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/a.txt");
  expect_error([&] { write_file_atomic(path, std::string("x")); }, path, {"No such file or directory"});
  EXPECT_TRUE(dir.entries().empty());
}

TEST(AtomicFile, ParentIsARegularFileFails) {
  TempDir dir;
  write_file_atomic(dir.file("plain"), std::string("x"));
  const std::string path = dir.file("plain/a.txt");
  expect_error([&] { write_safetensors(path, sample_file()); }, path, {"Not a directory"});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"plain"});
}

// rename() over a non-empty directory fails for real (no hook): the temp file must go.
TEST(AtomicFile, RenameFailureLeavesNoTempFile) {
  TempDir dir;
  const std::string path = dir.file("target");
  fs::create_directory(path);
  write_file_atomic(dir.file("target/keep"), std::string("kept"));
  expect_error([&] { write_file_atomic(path, std::string("x")); }, path, {"renaming"});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"target"});
  EXPECT_EQ(read_bytes(dir.file("target/keep")), "kept");
}

// A full disk: the first write() stores a few bytes, the next one fails with ENOSPC.
TEST(AtomicFile, DiskFullLeavesThePreviousFileIntact) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  write_safetensors(path, sample_file());
  const std::string before = read_bytes(path);

  static int calls;
  calls = 0;
  detail::AtomicFileHooks hooks;
  hooks.write = [](int fd, const void* buf, size_t n) -> long {
    if (calls++ == 0) return static_cast<long>(::write(fd, buf, std::min<size_t>(n, 5)));
    errno = ENOSPC;
    return -1;
  };
  {
    HookGuard guard(hooks);
    TensorFile f = sample_file();
    f.tensors["more"] = random_tensor(Shape{100}, 9);
    expect_error([&] { write_safetensors(path, f); }, path, {"No space left on device"});
  }
  EXPECT_GE(calls, 2);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"});
  EXPECT_NO_THROW(read_safetensors(path));
}

TEST(AtomicFile, FsyncAndRenameFailuresLeaveThePreviousFileIntact) {
  TempDir dir;
  const std::string path = dir.file("a.txt");
  write_file_atomic(path, std::string("old"));
  {
    detail::AtomicFileHooks hooks;
    hooks.fsync = [](int) { errno = EIO; return -1; };
    HookGuard guard(hooks);
    expect_error([&] { write_file_atomic(path, std::string("new")); }, path, {"fsync", "Input/output error"});
  }
  EXPECT_EQ(read_bytes(path), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.txt"});
  {
    detail::AtomicFileHooks hooks;
    hooks.rename = [](const char*, const char*) { errno = EXDEV; return -1; };
    HookGuard guard(hooks);
    expect_error([&] { write_file_atomic(path, std::string("new")); }, path, {"renaming"});
  }
  EXPECT_EQ(read_bytes(path), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.txt"});
}
