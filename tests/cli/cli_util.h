// Helpers for end-to-end tests of the built `sngan` binary.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sngan::testing {

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing stdout and stderr together.
inline RunResult run_command(const std::string& cmd) {
  RunResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline RunResult run_sngan(const std::string& args) {
  return run_command(std::string("OMP_NUM_THREADS=1 ") + SNGAN_BINARY + " " + args);
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// A fresh, empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sngan_cli_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes a tiny IDX image set (n images of 28x28, a bright square whose place depends on the
// label) and its labels as train-images-idx3-ubyte / train-labels-idx1-ubyte in `dir`.
inline void write_tiny_idx(const std::filesystem::path& dir, int n) {
  auto be32 = [](std::string& s, uint32_t v) {
    for (int k = 3; k >= 0; --k) s.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
  };
  std::string images, labels;
  be32(images, 0x00000803);
  be32(images, static_cast<uint32_t>(n));
  be32(images, 28);
  be32(images, 28);
  be32(labels, 0x00000801);
  be32(labels, static_cast<uint32_t>(n));
  for (int i = 0; i < n; ++i) {
    const int label = i % 4;
    labels.push_back(static_cast<char>(label));
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        const bool on = (y / 14) == label / 2 && (x / 14) == label % 2;
        images.push_back(static_cast<char>(on ? 220 : 10));
      }
  }
  write_file(dir / "train-images-idx3-ubyte", images);
  write_file(dir / "train-labels-idx1-ubyte", labels);
}

// A small, fast config on the tiny IDX set in `data_dir`.
inline std::string tiny_config(const std::filesystem::path& data_dir, int iterations) {
  std::ostringstream os;
  os << R"({"seed": 3, "threads": 1,
  "data": {"format": "idx", "path": ")" << data_dir.string() << R"(", "image_size": 16, "channels": 1, "fit": "resize", "prefetch": 1},
  "model": {"architecture": "standard_cnn", "generator": {"base_channels": 16},
            "discriminator": {"conv_channels": [4, 4, 8, 8, 8, 8, 16]}},
  "train": {"setting": "C", "iterations": )" << iterations << R"(, "batch_size": 8, "ema_decay": 0.9},
  "output": {"log_every": 2, "checkpoint_every": 4, "sample_count": 16}})";
  return os.str();
}

}  // namespace sngan::testing
