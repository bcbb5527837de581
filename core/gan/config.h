// Plain configuration structs for models and training. app/ fills them from JSON (validated,
// unknown keys rejected) and core/ constructs from them; no JSON here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/nn/spectral_norm.h"
#include "core/tensor/kernels/gemm_ops.h"

namespace sngan {

enum class Architecture { kStandardCnn, kResNet, kMlp };
enum class ZDistribution { kNormal, kUniform };  // N(0, I) or U(-1, 1)
enum class InitScheme {
  kGlorot,     // Glorot uniform (gain sqrt(2) on ResNet block 3x3 convs, 1 elsewhere)
  kNormal002,  // N(0, 0.02), chainer-gan-lib
};
// The discriminator normalizations compared by Miyato et al. 2018 (Sec. 4): spectral norm and
// the baselines (no normalization, weight clipping, weight norm, batch norm, layer norm,
// orthonormal regularization).
enum class DNormalization {
  kSpectral,
  kNone,
  kWeightClip,   // every D parameter clamped to [-clip_value, clip_value] after each D update
  kWeightNorm,   // each weight row divided by its norm, no learnable gain
  kBatchNorm,    // BN (shift only) after every conv/linear but the first and the last
  kLayerNorm,    // LN (shift only), placed as BN
  kOrthonormal,  // orthogonal init + orthonormal_penalty * sum ||W^T W - I||_F^2 in L_D
};
enum class LossType { kStandard, kHinge, kWasserstein };
enum class LrDecay { kNone, kLinear };

struct GeneratorConfig {
  Architecture architecture = Architecture::kStandardCnn;
  int64_t z_dim = 128;
  ZDistribution z_distribution = ZDistribution::kNormal;
  int64_t image_size = 32;  // output H = W; a multiple of 8
  int64_t channels = 3;     // output channels (1 grey, 3 RGB; 2 features for the MLP)
  // Standard CNN: channels after the dense layer (halved by each of the 3 deconvs).
  // ResNet: width of every up-block (32x32 layout) or of the dense output (48x48 layout).
  int64_t base_channels = 512;
  bool bn_after_dense = false;  // chainer-gan-lib: BN + ReLU after the dense layer
  InitScheme init = InitScheme::kGlorot;
  // MLP (toy 2D sets): hidden width and number of hidden layers.
  int64_t mlp_hidden = 256;
  int64_t mlp_layers = 3;
  // ResNet: fold each block's upsampling into its convs (upsample2_conv3x3; the 1x1 shortcut
  // before the upsampling). The same function with fewer multiply-adds; off only to count the
  // model's nominal cost or to test the folded path against the plain one.
  bool fold_resampling = true;
};

struct DiscriminatorConfig {
  Architecture architecture = Architecture::kStandardCnn;
  int64_t image_size = 32;
  int64_t channels = 3;  // input channels (features for the MLP)
  // Standard CNN: the 7 conv widths. Paper: 64,64,128,128,256,256,512;
  // chainer-gan-lib: 64,128,128,256,256,512,512.
  std::vector<int64_t> conv_channels{64, 64, 128, 128, 256, 256, 512};
  Scalar leaky_slope = 0.1f;
  // ResNet: block width (32x32: every block; 48x48 layout doubles 64 -> 1024).
  int64_t base_channels = 128;
  DNormalization normalization = DNormalization::kSpectral;
  SpectralNormConfig spectral_norm;
  double clip_value = 0.01;  // weight_clip: c (Miyato et al. 2018, Sec. 4, after Arjovsky et al.)
  // orthonormal: the penalty's weight. The paper states none; 1e-4 is the coefficient Brock et
  // al. 2019 (BigGAN) use for their orthogonal regularization. The penalty is a sum over all of
  // D's layers of squared Frobenius norms of up to 512 x 512 matrices, so a small weight keeps
  // it from dominating the adversarial loss while still holding the orthogonal init.
  double orthonormal_penalty = 1e-4;
  InitScheme init = InitScheme::kGlorot;
  int64_t mlp_hidden = 256;
  int64_t mlp_layers = 3;
  // ResNet: fold each downsampling block's average pooling into its convs (conv3x3_avgpool2;
  // the 1x1 shortcut after the pooling). As GeneratorConfig::fold_resampling.
  bool fold_resampling = true;
};

struct TrainConfig {
  LossType loss = LossType::kStandard;
  int64_t iterations = 100000;  // generator updates
  int64_t batch_size = 64;      // real and fake images per discriminator step
  int64_t g_batch_size = 64;    // fake images per generator step
  int64_t n_dis = 1;            // discriminator steps per generator step
  double lr_g = 2e-4, lr_d = 2e-4;
  double beta1 = 0.5, beta2 = 0.999;
  LrDecay lr_decay = LrDecay::kNone;  // linear: lr * (1 - iteration / iterations)
  double ema_decay = 0.0;             // 0 disables the moving average of G's weights
  // Generator iteration from which the average starts; before it the EMA weights copy G's.
  int64_t ema_start = 0;
  // "Standing statistics" (Brock et al. 2019, BigGAN, Sec. 3.1 / App. C): before the EMA
  // generator samples or is saved, its BN running statistics are re-estimated as the average of
  // the batch statistics of this many batches (of batch_size fresh z, from the EMA's own seeded
  // stream) through the EMA weights in training mode. 0: copy G's running statistics instead.
  int64_t ema_standing_batches = 16;
  // Gradient penalty weight lambda (0 = off): lambda * (||grad D(xhat)|| - 1)^2 on interpolates
  // (Gulrajani et al. 2017); with loss wasserstein it is WGAN-GP, with standard GAN-GP.
  double gradient_penalty = 0.0;
  // R1 weight gamma (0 = off): gamma / 2 * ||grad_x D(x)||^2 on real data (Mescheder et al. 2018).
  double r1_penalty = 0.0;
  // The GEMMs' and convolutions' operands in the training step: fp32, or bf16 (rounded to bf16,
  // summed in fp32; weights, optimizer state, BN statistics, SN vectors and losses stay fp32).
  kernels::Precision precision = kernels::Precision::kFp32;
  uint64_t seed = 0;
};

// The Adam settings A-F of Miyato et al. 2018, Table 1. Returns false for an unknown name.
struct AdamSetting {
  double lr, beta1, beta2;
  int64_t n_dis;
};
bool paper_setting(const std::string& name, AdamSetting* out);

const char* to_string(Architecture a);
const char* to_string(DNormalization n);  // the config name: "spectral", "weight_clip", ...

}  // namespace sngan
