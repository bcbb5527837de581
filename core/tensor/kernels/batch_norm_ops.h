// Raw batch-norm kernels for training mode: batch statistics, normalisation, the optional
// affine transform and relu in one forward, and the fused backward.
//
// Contracts (all buffers contiguous row-major, caller allocates every output):
//  - x, y, dy, dx have the shape (N, C, inner): (N, C) inputs have inner = 1, (N, C, H, W)
//    inputs inner = H * W. Statistics run over N and inner per channel: count() = N * inner
//    values, which must be more than one.
//  - gamma, beta (C) may be null (no affine: scale 1, shift 0). The backward then still fills
//    dgamma and dbeta when they are not null.
//  - mean, invstd (C) are the batch statistics the forward computes (biased variance) and the
//    backward reads; kept in double.
//  - The backward recomputes x-hat = (x - mean) * invstd from x, so no normalised copy is kept;
//    with relu it reads the mask from the forward's output y (relu_y, null without relu).
//  - fast versions use OpenMP over channels; the `ref` namespace holds plain-loop versions with
//    the same semantics, written to be obviously correct, that the tests compare against.
#pragma once

#include <cstdint>
#include <functional>

#include "core/tensor/tensor.h"

namespace sngan::kernels {

struct BatchNormDims {
  int64_t N = 0, C = 0, inner = 1;
  int64_t count() const { return N * inner; }  // values per channel
};

// Running statistics updated by the forward (both null, or both (C)):
// mean <- (1 - momentum) mean + momentum * batch mean; var likewise with the unbiased variance.
struct BatchNormRunning {
  Scalar* mean = nullptr;
  Scalar* var = nullptr;
  Scalar momentum = 0.1;  // Scalar, as BatchNormState keeps it (1 - momentum rounds in Scalar)
};

// y = max(gamma * (x - mean) * invstd + beta, relu ? 0 : -inf), invstd = 1 / sqrt(var + eps).
void batch_norm_forward(Scalar* y, double* mean, double* invstd, const Scalar* x,
                        const Scalar* gamma, const Scalar* beta, const BatchNormDims& d,
                        double eps, bool relu, const BatchNormRunning& running);
// dx (N, C, inner), dgamma, dbeta (C) (either may be null) from dy, masked where relu_y <= 0.
void batch_norm_backward(Scalar* dx, Scalar* dgamma, Scalar* dbeta, const Scalar* dy,
                         const Scalar* x, const double* mean, const double* invstd,
                         const Scalar* gamma, const Scalar* relu_y, const BatchNormDims& d);

// Sharded training mode (data parallelism over ranks, core/tensor/process_group.h): x holds
// this rank's rows of a batch whose statistics run over `total_count` values per channel on
// all ranks together; `reduce` sums a (C) vector over the ranks (ProcessGroup::sum). The
// forward reduces the channel sums, then the squared deviations from the global mean; the
// backward reduces the sums of g and g * x-hat, from which each rank's dx follows. dgamma and
// dbeta are this rank's share (the parameter-gradient sum adds them up). With one rank and
// `reduce` doing nothing these compute what the fused kernels compute, summed in other order.
using StatsReducer = std::function<void(double* data, int64_t n)>;
void batch_norm_forward_sharded(Scalar* y, double* mean, double* invstd, const Scalar* x,
                                const Scalar* gamma, const Scalar* beta, const BatchNormDims& d,
                                int64_t total_count, const StatsReducer& reduce, double eps,
                                bool relu, const BatchNormRunning& running);
void batch_norm_backward_sharded(Scalar* dx, Scalar* dgamma, Scalar* dbeta, const Scalar* dy,
                                 const Scalar* x, const double* mean, const double* invstd,
                                 const Scalar* gamma, const Scalar* relu_y, const BatchNormDims& d,
                                 int64_t total_count, const StatsReducer& reduce);

namespace ref {
void batch_norm_forward(Scalar* y, double* mean, double* invstd, const Scalar* x,
                        const Scalar* gamma, const Scalar* beta, const BatchNormDims& d,
                        double eps, bool relu, const BatchNormRunning& running);
void batch_norm_backward(Scalar* dx, Scalar* dgamma, Scalar* dbeta, const Scalar* dy,
                         const Scalar* x, const double* mean, const double* invstd,
                         const Scalar* gamma, const Scalar* relu_y, const BatchNormDims& d);
}  // namespace ref

}  // namespace sngan::kernels
