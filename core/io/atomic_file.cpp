#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/tensor/check.h"

namespace sngan {

namespace {

constexpr size_t kBufferSize = size_t(1) << 16;

detail::AtomicFileHooks g_hooks;

long sys_write(int fd, const void* buf, size_t n) {
  return g_hooks.write ? g_hooks.write(fd, buf, n) : static_cast<long>(::write(fd, buf, n));
}
int sys_fsync(int fd) { return g_hooks.fsync ? g_hooks.fsync(fd) : ::fsync(fd); }
int sys_rename(const char* from, const char* to) {
  return g_hooks.rename ? g_hooks.rename(from, to) : std::rename(from, to);
}

std::string parent_directory(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void detail::set_atomic_file_hooks_for_testing(const AtomicFileHooks& hooks) { g_hooks = hooks; }

AtomicFileWriter::AtomicFileWriter(const std::string& path)
    : path_(path), temp_path_(path + ".tmp." + std::to_string(::getpid())) {
  SNGAN_CHECK(!path.empty(), "expected a non-empty file path to write, got \"\"");
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) fail("creating the temporary file", errno);
  buffer_.reserve(kBufferSize);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) abort();
}

void AtomicFileWriter::write(const void* data, size_t size) {
  SNGAN_CHECK(fd_ >= 0 && !committed_, "expected an open AtomicFileWriter for '", path_,
              "', got one that was already committed or failed");
  if (size == 0) return;
  const char* p = static_cast<const char*>(data);
  if (buffer_.size() + size <= kBufferSize) {
    buffer_.append(p, size);
    return;
  }
  flush_buffer();
  if (size < kBufferSize)
    buffer_.append(p, size);
  else
    write_all(p, size);
}

void AtomicFileWriter::flush_buffer() {
  write_all(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void AtomicFileWriter::write_all(const char* p, size_t n) {
  while (n > 0) {
    long k = sys_write(fd_, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) fail("writing", errno);
    if (k == 0) fail("writing", ENOSPC);  // no progress: treat as a full device
    p += k;
    n -= static_cast<size_t>(k);
  }
}

void AtomicFileWriter::commit() {
  SNGAN_CHECK(fd_ >= 0 && !committed_, "expected an open AtomicFileWriter for '", path_,
              "', got one that was already committed or failed");
  flush_buffer();
  if (sys_fsync(fd_) != 0) fail("fsync of the temporary file", errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("closing the temporary file", errno);
  if (sys_rename(temp_path_.c_str(), path_.c_str()) != 0) fail("renaming the temporary file", errno);
  committed_ = true;
  // Make the rename durable. Some file systems cannot fsync a directory (EINVAL): accept that.
  const std::string dir = parent_directory(path_);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    int err = errno;
    throw Error(detail::concat("cannot write '", path_, "': the file was replaced but opening its ",
                               "directory '", dir, "' to fsync it failed: ", std::strerror(err)));
  }
  int rc = sys_fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0 && err != EINVAL)
    throw Error(detail::concat("cannot write '", path_, "': the file was replaced but fsync of ",
                               "its directory '", dir, "' failed: ", std::strerror(err)));
}

void AtomicFileWriter::abort() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());  // may not exist (open failed, or already renamed): ignore
}

void AtomicFileWriter::fail(const char* what, int err) {
  abort();
  throw Error(detail::concat("cannot write '", path_, "': ", what, " '", temp_path_,
                             "' failed: ", std::strerror(err)));
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  AtomicFileWriter w(path);
  w.write(data, size);
  w.commit();
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  write_file_atomic(path, contents.data(), contents.size());
}

}  // namespace sngan
