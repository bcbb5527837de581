// Crash-safe file replacement: the one place in the project that writes a file atomically.
//
// A file written here either keeps its previous contents or has the complete new contents,
// even if the process dies or the machine loses power half way: the bytes go to a temporary
// "<path>.tmp.<pid>" in the same directory, which is fsync'ed and then renamed over <path>;
// finally the directory is fsync'ed so that the rename itself is durable.
//
// On any failure (open, short write such as a full disk, fsync, rename) the temporary file is
// removed, an existing file at <path> is left untouched, and sngan::Error is thrown naming
// <path> and the system error (strerror). Two writers of the same path in one process at the
// same time are not supported (they would share the temporary name).
#pragma once

#include <cstddef>
#include <string>

namespace sngan {

// Writes size bytes from data to path atomically (see above).
void write_file_atomic(const std::string& path, const void* data, size_t size);
void write_file_atomic(const std::string& path, const std::string& contents);

// Streaming variant for contents produced piece by piece (checkpoints, logs):
//   AtomicFileWriter w(path);  w.write(a, n); w.write(b, m);  w.commit();
// The constructor creates the temporary file; write() appends (buffered); commit() flushes,
// fsyncs, renames over path and fsyncs the directory. A writer destroyed without a successful
// commit() (an exception, an early return) removes its temporary file and leaves path as it
// was. Every failure throws sngan::Error naming path. Not copyable; not thread-safe.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t size);
  void write(const std::string& s) { write(s.data(), s.size()); }
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  void flush_buffer();
  void write_all(const char* p, size_t n);
  [[noreturn]] void fail(const char* what, int err);  // aborts, then throws
  void abort() noexcept;                              // closes and removes the temp file

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  std::string buffer_;  // small writes are gathered here (capacity kBufferSize)
};

namespace detail {
// Fault injection for tests only: replacements for the system calls used above (nullptr =
// the real call). Each has the signature and errno convention of the POSIX call it replaces.
struct AtomicFileHooks {
  long (*write)(int fd, const void* buf, size_t count) = nullptr;  // returns ssize_t
  int (*fsync)(int fd) = nullptr;
  int (*rename)(const char* from, const char* to) = nullptr;
};
// Installs hooks (process-wide, not thread-safe); pass {} to restore the real calls.
void set_atomic_file_hooks_for_testing(const AtomicFileHooks& hooks);
}  // namespace detail

}  // namespace sngan
