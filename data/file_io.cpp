#include "data/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/tensor/check.h"

namespace sngan {

uint64_t regular_file_size(const std::string& path, const std::string& what) {
  struct stat st {};
  SNGAN_CHECK(!path.empty(), "expected a path to ", what, ", got an empty path");
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    SNGAN_CHECK(false, path, ": expected ", what, ", got ",
                err == ENOENT ? std::string("no such file or directory") : std::strerror(err));
  }
  SNGAN_CHECK(S_ISREG(st.st_mode), path, ": expected ", what, ", got ",
              S_ISDIR(st.st_mode) ? "a directory" : "something that is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

FileReader::FileReader(const std::string& path, const std::string& what) : path_(path) {
  size_ = regular_file_size(path, what);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  SNGAN_CHECK(fd_ >= 0, path, ": expected ", what, " readable by this user, got ",
              std::strerror(errno));
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

void FileReader::read_at(uint64_t offset, void* dst, size_t n) const {
  auto* p = static_cast<char*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    SNGAN_CHECK(got > 0, path_, ": expected ", n, " bytes at offset ", offset, ", got ", done,
                got < 0 ? std::string(" (") + std::strerror(errno) + ")"
                        : std::string(" (the file shrank after it was opened)"));
    done += static_cast<size_t>(got);
  }
}

std::vector<uint8_t> read_whole_file(const std::string& path, const std::string& what) {
  FileReader file(path, what);
  std::vector<uint8_t> bytes(static_cast<size_t>(file.size()));
  if (!bytes.empty()) file.read_at(0, bytes.data(), bytes.size());
  return bytes;
}

}  // namespace sngan
