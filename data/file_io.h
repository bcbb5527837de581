// Small file helpers shared by the format readers. Every failure throws sngan::Error with a
// message that starts with the path and reads "expected ..., got ...".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sngan {

// Size in bytes of a regular file. `what` names the expected content for the message
// ("a CIFAR-10 batch file"): "<path>: expected <what>, got no such file or directory".
uint64_t regular_file_size(const std::string& path, const std::string& what);

// True if path names an existing directory / regular file (no error otherwise).
bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);

// "a/b" from "a" and "b" (no separator doubling).
std::string join_path(const std::string& dir, const std::string& name);

// A read-only file for random access with pread: thread-safe, no shared file offset.
class FileReader {
 public:
  FileReader(const std::string& path, const std::string& what);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Reads exactly n bytes at offset into dst; throws naming the path on a short read.
  void read_at(uint64_t offset, void* dst, size_t n) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// The whole file in memory.
std::vector<uint8_t> read_whole_file(const std::string& path, const std::string& what);

}  // namespace sngan
