#include "app/inspect_command.h"

#include <Eigen/Dense>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "app/run_setup.h"
#include "core/io/atomic_file.h"
#include "core/io/safetensors.h"
#include "core/tensor/check.h"

namespace sngan {
namespace {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const std::string kPrefix = "discriminator.";
const std::string kSuffix = ".weight";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A (out, in, kh, kw) or (out, in) weight as its out x (in*kh*kw) matrix, in double.
Matrix matrix_form(const Tensor& w) {
  const int64_t rows = w.shape()[0], cols = w.numel() / rows;
  Matrix m(rows, cols);
  for (int64_t i = 0; i < w.numel(); ++i) m.data()[i] = static_cast<double>(w[i]);
  return m;
}

// W / (u^T W v) with the layer's stored u (rows) and v (cols), as spectral norm computes in
// evaluation mode.
void divide_by_stored_sigma(Matrix& w, const std::map<std::string, Tensor>& tensors, const std::string& layer,
                            const std::string& source) {
  auto u_it = tensors.find(kPrefix + layer + ".u"), v_it = tensors.find(kPrefix + layer + ".v");
  SNGAN_CHECK(u_it != tensors.end() && v_it != tensors.end(), source, ": spectral-norm layer '", layer,
              "' has no stored u and v (expected tensors ", kPrefix, layer, ".u and .v)");
  const Tensor& ut = u_it->second;
  const Tensor& vt = v_it->second;
  SNGAN_CHECK(ut.numel() == w.rows() && vt.numel() == w.cols(), source, ": layer '", layer, "': expected u of ",
              w.rows(), " and v of ", w.cols(), " values, got ", ut.numel(), " and ", vt.numel());
  Eigen::VectorXd u(w.rows()), v(w.cols());
  for (int64_t i = 0; i < u.size(); ++i) u[i] = ut[i];
  for (int64_t i = 0; i < v.size(); ++i) v[i] = vt[i];
  const double sigma = u.dot(w * v);
  SNGAN_CHECK(std::isfinite(sigma) && sigma > 0, source, ": layer '", layer,
              "': expected a positive sigma = u^T W v, got ", sigma);
  w /= sigma;
}

void write_csv(const std::vector<LayerSpectrum>& spectra, std::ostream& out) {
  out << "layer,rows,cols,index,singular_value,squared,squared_scaled\n";
  char buf[160];
  for (const LayerSpectrum& s : spectra) {
    const double top = s.singular_values.empty() ? 0 : s.singular_values[0];
    for (size_t i = 0; i < s.singular_values.size(); ++i) {
      const double v = s.singular_values[i];
      const double scaled = top > 0 ? (v * v) / (top * top) : 0;
      std::snprintf(buf, sizeof buf, ",%lld,%lld,%zu,%.9g,%.9g,%.9g\n", static_cast<long long>(s.rows),
                    static_cast<long long>(s.cols), i, v, v * v, scaled);
      out << s.layer << buf;
    }
  }
}

}  // namespace

std::vector<LayerSpectrum> discriminator_spectra(const std::map<std::string, Tensor>& tensors,
                                                 DNormalization normalization, const std::string& source) {
  std::vector<LayerSpectrum> out;
  for (const auto& [name, w] : tensors) {
    if (name.rfind(kPrefix, 0) != 0 || !ends_with(name, kSuffix) || w.ndim() < 2) continue;
    LayerSpectrum s;
    s.layer = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
    Matrix m = matrix_form(w);  // (rows, cols)
    s.rows = m.rows();
    s.cols = m.cols();
    if (normalization == DNormalization::kSpectral) {
      divide_by_stored_sigma(m, tensors, s.layer, source);
    } else if (normalization == DNormalization::kWeightNorm) {
      for (int64_t r = 0; r < m.rows(); ++r) m.row(r) /= std::sqrt(m.row(r).squaredNorm() + 1e-12);
    }
    Eigen::BDCSVD<Matrix> svd(m);  // values only, descending
    const Eigen::VectorXd values = svd.singularValues();
    s.singular_values.assign(values.data(), values.data() + values.size());
    out.push_back(std::move(s));
  }
  SNGAN_CHECK(!out.empty(), source, ": expected discriminator weights (tensors named ", kPrefix,
              "*.weight with at least 2 dimensions), found none");
  return out;
}

int run_inspect(const InspectOptions& o) {
  SNGAN_CHECK(o.spectra, "sngan inspect: expected --spectra (the only report so far)");
  TensorFile file = read_safetensors(o.checkpoint);
  auto it = file.metadata.find("config");
  SNGAN_CHECK(it != file.metadata.end(), o.checkpoint,
              ": expected an sngan checkpoint (metadata 'config' not found)");
  const RunConfig cfg = run_config_from_text(it->second, o.checkpoint + " (stored config)");
  const std::vector<LayerSpectrum> spectra =
      discriminator_spectra(file.tensors, cfg.discriminator.normalization, o.checkpoint);
  std::ostringstream csv;
  write_csv(spectra, csv);
  if (o.out.empty()) {
    std::fputs(csv.str().c_str(), stdout);
  } else {
    write_file_atomic(o.out, csv.str());
    auto iteration = file.metadata.find("iteration");
    std::printf("%s: %zu layers of D (%s), iteration %s -> %s\n", o.checkpoint.c_str(), spectra.size(),
                to_string(cfg.discriminator.normalization),
                iteration == file.metadata.end() ? "?" : iteration->second.c_str(), o.out.c_str());
    for (const LayerSpectrum& s : spectra)
      std::printf("  %-24s %lld x %lld  largest %.4f  smallest %.4g\n", s.layer.c_str(),
                  static_cast<long long>(s.rows), static_cast<long long>(s.cols), s.singular_values.front(),
                  s.singular_values.back());
  }
  return 0;
}

}  // namespace sngan
