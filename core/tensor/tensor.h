// Tensor: a contiguous, row-major (NCHW for images) array of Scalar.
//
// Scalar is float in the product and double in the gradient-check build
// (SNGAN_SCALAR_DOUBLE, library sngan_tensor_f64). Storage is shared between
// copies of a Tensor (copying a Tensor is cheap and aliases the data; use clone()
// for a deep copy). Memory comes from a caching pool, so a training step that
// allocates the same shapes every iteration does not call malloc in steady state.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/check.h"

namespace sngan {

#ifdef SNGAN_SCALAR_DOUBLE
using Scalar = double;
#else
using Scalar = float;
#endif

using MatrixMap = Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using ConstMatrixMap =
    Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Up to kMaxDims dimensions, stored inline (no heap allocation per shape).
class Shape {
 public:
  static constexpr int kMaxDims = 6;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  int64_t numel() const;
  std::vector<int64_t> to_vector() const;
  std::string str() const;  // "(64, 3, 32, 32)"
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxDims> dims_{};
  int ndim_ = 0;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() == false

  // Uninitialised contents (pool memory); use zeros()/full() when contents matter.
  static Tensor empty(const Shape& shape);
  static Tensor zeros(const Shape& shape);
  static Tensor full(const Shape& shape, Scalar value);
  static Tensor from_vector(const Shape& shape, const std::vector<Scalar>& values);
  static Tensor scalar(Scalar value) { return full(Shape{1}, value); }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return shape_.numel(); }

  Scalar* data() { return data_; }
  const Scalar* data() const { return data_; }
  Scalar& operator[](int64_t i) { return data_[i]; }
  Scalar operator[](int64_t i) const { return data_[i]; }
  Scalar item() const;  // the value of a one-element tensor

  Tensor clone() const;
  // Same data, new shape with the same number of elements.
  Tensor reshape(const Shape& shape) const;
  void fill(Scalar value);
  void zero() { fill(Scalar(0)); }
  void copy_from(const Tensor& src);  // shapes must have equal numel
  std::vector<Scalar> to_vector() const;

  // Row-major matrix view: rows x cols must equal numel().
  MatrixMap matrix(int64_t rows, int64_t cols);
  ConstMatrixMap matrix(int64_t rows, int64_t cols) const;

 private:
  std::shared_ptr<Scalar> storage_;
  Scalar* data_ = nullptr;
  Shape shape_;
};

// Returns the allocation pool's free memory to the system (blocks in use are untouched).
void release_cached_memory();
// Bytes the pool holds free for reuse (its free lists and the free ranges of its arena).
size_t cached_memory_bytes();

}  // namespace sngan
