#include "app/config.h"

#include <fstream>
#include <sstream>

#include "app/config_fields.h"
#include "core/gan/d_method.h"
#include "core/tensor/check.h"

namespace sngan {

using nlohmann::json;

namespace {

// ---- the config names of every enum, one table each ----
const NameTable<Architecture> kArchitectures = {
    {Architecture::kStandardCnn, "standard_cnn"}, {Architecture::kResNet, "resnet"}, {Architecture::kMlp, "mlp"}};
const NameTable<ZDistribution> kZDistributions = {{ZDistribution::kNormal, "normal"},
                                                   {ZDistribution::kUniform, "uniform"}};
const NameTable<InitScheme> kInitSchemes = {{InitScheme::kGlorot, "glorot"}, {InitScheme::kNormal002, "normal_0.02"}};
const NameTable<DNormalization> kDNormalizations = {
    {DNormalization::kSpectral, "spectral"},      {DNormalization::kNone, "none"},
    {DNormalization::kWeightClip, "weight_clip"}, {DNormalization::kWeightNorm, "weight_norm"},
    {DNormalization::kBatchNorm, "batch_norm"},   {DNormalization::kLayerNorm, "layer_norm"},
    {DNormalization::kOrthonormal, "orthonormal"}};
const NameTable<SnEpsStyle> kSnEpsStyles = {{SnEpsStyle::kChainer, "chainer"}, {SnEpsStyle::kPyTorch, "pytorch"}};
const NameTable<LossType> kLosses = {
    {LossType::kStandard, "standard"}, {LossType::kHinge, "hinge"}, {LossType::kWasserstein, "wasserstein"}};
const NameTable<LrDecay> kLrDecays = {{LrDecay::kNone, "none"}, {LrDecay::kLinear, "linear"}};
const NameTable<kernels::Precision> kPrecisions = {{kernels::Precision::kFp32, "fp32"},
                                                   {kernels::Precision::kBf16, "bf16"}};
const std::vector<std::string> kDataFormats = {"idx", "cifar10", "cifar100", "stl10", "folder", "ring8", "grid25"};
const std::vector<std::string> kSplits = {"train", "test", "unlabeled"};
const std::vector<std::string> kFits = {"pad", "resize", "crop"};

bool is_toy_format(const std::string& format) { return format == "ring8" || format == "grid25"; }

// ---- the schema: one function per section, each key named once (see app/config_fields.h) ----

void toy_fields(Fields f, Toy2DConfig& toy) {
  f.field("size", toy.size, 1, int64_t{1} << 40);
  if (f.reading()) toy.std = toy2d_std(toy);  // the kind's default unless given
  f.field("std", toy.std);
  f.field("radius", toy.radius);
  f.field("spacing", toy.spacing);
  f.range("std", toy.std, 0, 1e6, true, false);
  f.range("radius", toy.radius, 0, 1e6, true, false);
  f.range("spacing", toy.spacing, 0, 1e6, true, false);
  f.finish();
}

void data_fields(Fields f, RunConfig& c) {
  DatasetConfig& d = c.data;
  PreprocessConfig& p = c.preprocess;
  f.choice("format", d.format, kDataFormats);
  const bool toy = is_toy_format(d.format);
  f.field("path", d.path);
  if (f.reading() && !toy && d.path.empty())
    f.fail("path", detail::concat("expected the dataset location for format \"", d.format, "\", got nothing"));
  f.choice("split", d.split, kSplits);
  // Keys of one format only: given for another, they would be silently ignored.
  auto only_for = [&](const char* key, bool applies, const char* formats) {
    if (f.reading() && f.has(key) && !applies)
      f.fail(key, detail::concat("expected only with data.format ", formats, ", got data.format \"", d.format, "\""));
  };
  only_for("labels_path", d.format == "idx", "\"idx\"");
  only_for("coarse_labels", d.format == "cifar100", "\"cifar100\"");
  only_for("toy", toy, "\"ring8\" or \"grid25\"");
  if (f.reading_or(!d.labels_path.empty())) f.field("labels_path", d.labels_path);
  if (f.reading_or(d.format == "cifar100")) f.field("coarse_labels", d.coarse_labels);
  if (f.reading()) p.channels = toy ? 2 : 3;
  f.field("image_size", p.image_size, 8, 1024);
  f.field("channels", p.channels, 1, 3);
  if (f.reading() && !toy && p.channels == 2) f.fail("channels", "expected 1 (grey) or 3 (RGB), got 2");
  f.choice("fit", p.fit, kFits);
  f.field("dequantize", p.dequantize);
  f.field("random_flip", p.random_flip);
  f.field("shuffle", c.loader.shuffle);
  f.field("drop_last", c.loader.drop_last);
  f.field("prefetch", c.loader.prefetch, 0, 64);
  d.toy.kind = d.format;
  if (f.reading_or(toy)) toy_fields(f.child("toy"), d.toy);
  f.finish();
}

void generator_fields(Fields f, GeneratorConfig& g) {
  f.field("base_channels", g.base_channels, 1, 1 << 14);
  f.field("bn_after_dense", g.bn_after_dense);
  f.field("mlp_hidden", g.mlp_hidden, 1, 1 << 16);
  f.field("mlp_layers", g.mlp_layers, 0, 64);
  f.finish();
}

void discriminator_fields(Fields f, DiscriminatorConfig& d) {
  f.field("conv_channels", d.conv_channels);
  if (f.reading() && d.conv_channels.size() != 7)
    f.fail("conv_channels", detail::concat("expected 7 widths, got ", d.conv_channels.size()));
  f.field("leaky_slope", d.leaky_slope);
  f.range("leaky_slope", d.leaky_slope, 0, 1, false, true);
  f.field("base_channels", d.base_channels, 1, 1 << 14);
  f.choice("normalization", d.normalization, kDNormalizations);
  // A method's own key, given for another method, would be silently ignored: refused instead.
  auto method_key = [&](const char* key, DNormalization method, double& value, double lo, bool lo_open) {
    if (f.reading() && f.has(key) && d.normalization != method)
      f.fail(key, detail::concat("expected only with normalization \"",
                                 Fields::name_of(method, kDNormalizations), "\", got \"",
                                 Fields::name_of(d.normalization, kDNormalizations), "\""));
    if (!f.reading_or(d.normalization == method)) return;
    f.field(key, value);
    f.range(key, value, lo, 1e6, lo_open, false);
  };
  method_key("clip_value", DNormalization::kWeightClip, d.clip_value, 0, true);
  method_key("orthonormal_penalty", DNormalization::kOrthonormal, d.orthonormal_penalty, 0, false);
  f.field("sn_power_iterations", d.spectral_norm.power_iterations, 0, 100);
  f.choice("sn_eps_style", d.spectral_norm.eps_style, kSnEpsStyles);
  f.field("mlp_hidden", d.mlp_hidden, 1, 1 << 16);
  f.field("mlp_layers", d.mlp_layers, 0, 64);
  f.finish();
}

// The architecture must suit the data: checked before the sizes it implies are used.
void check_architecture(const Fields& f, Architecture a, const RunConfig& c) {
  const bool toy = is_toy_format(c.data.format);
  const int64_t size = c.preprocess.image_size;
  if (toy != (a == Architecture::kMlp))
    f.fail("architecture", detail::concat("expected \"mlp\" for the toy 2D sets and an image model "
                                          "(\"standard_cnn\", \"resnet\") for images, got \"",
                                          Fields::name_of(a, kArchitectures), "\" for data.format \"",
                                          c.data.format, "\""));
  if (a == Architecture::kStandardCnn && size % 8 != 0)
    throw Error(detail::concat(f.source(), ": data.image_size: expected a multiple of 8 for "
                               "model.architecture \"standard_cnn\", got ", size));
  if (a == Architecture::kResNet && size != 32 && size != 48)
    throw Error(detail::concat(f.source(), ": data.image_size: expected 32 or 48 for "
                               "model.architecture \"resnet\", got ", size));
}

void model_fields(Fields f, RunConfig& c) {
  GeneratorConfig& g = c.generator;
  DiscriminatorConfig& d = c.discriminator;
  if (f.reading()) g.architecture = is_toy_format(c.data.format) ? Architecture::kMlp : Architecture::kStandardCnn;
  f.choice("architecture", g.architecture, kArchitectures);
  f.field("z_dim", g.z_dim, 1, 1 << 16);
  f.choice("z_distribution", g.z_distribution, kZDistributions);
  f.choice("init", g.init, kInitSchemes);
  if (f.reading()) {
    check_architecture(f, g.architecture, c);
    const int64_t size = c.preprocess.image_size;
    d.architecture = g.architecture;
    d.init = g.init;
    g.image_size = d.image_size = size;
    g.channels = d.channels = c.preprocess.channels;
    if (g.architecture == Architecture::kResNet) {
      g.base_channels = size == 48 ? 512 : 256;
      d.base_channels = size == 48 ? 64 : 128;
    }
  }
  generator_fields(f.child("generator"), g);
  discriminator_fields(f.child("discriminator"), d);
  f.finish();
}

// train.setting (one of the paper's Adam settings A-F) and train.lr set defaults that the
// explicit keys then override.
void learning_rate_fields(Fields& f, RunConfig& c) {
  TrainConfig& t = c.train;
  if (f.reading_or(!c.setting.empty())) f.field("setting", c.setting);
  if (f.reading() && !c.setting.empty()) {
    AdamSetting s;
    if (!paper_setting(c.setting, &s))
      f.fail("setting", detail::concat("expected one of the paper's settings \"A\"..\"F\", got \"", c.setting, "\""));
    t.lr_g = t.lr_d = s.lr;
    t.beta1 = s.beta1;
    t.beta2 = s.beta2;
    t.n_dis = s.n_dis;
  }
  if (f.alias("lr")) {
    SNGAN_CHECK(!f.has("lr_g") && !f.has("lr_d"), f.source(),
                ": train.lr: expected either train.lr (both nets) or train.lr_g/train.lr_d, got both");
    double lr = 0;
    f.field("lr", lr);
    t.lr_g = t.lr_d = lr;
  }
  f.field("lr_g", t.lr_g);
  f.field("lr_d", t.lr_d);
  f.range("lr_g", t.lr_g, 0, 1e3, true, false);
  f.range("lr_d", t.lr_d, 0, 1e3, true, false);
  f.field("beta1", t.beta1);
  f.field("beta2", t.beta2);
  f.range("beta1", t.beta1, 0, 1, false, true);
  f.range("beta2", t.beta2, 0, 1, false, true);
  f.choice("lr_decay", t.lr_decay, kLrDecays);
}

void train_fields(Fields f, RunConfig& c) {
  TrainConfig& t = c.train;
  learning_rate_fields(f, c);
  f.choice("loss", t.loss, kLosses);
  f.field("iterations", t.iterations, 1, int64_t{1} << 40);
  f.field("batch_size", t.batch_size, 1, 1 << 20);
  if (f.reading()) t.g_batch_size = t.batch_size;
  f.field("g_batch_size", t.g_batch_size, 1, 1 << 20);
  f.field("n_dis", t.n_dis, 1, 1000);
  f.field("ema_decay", t.ema_decay);
  f.range("ema_decay", t.ema_decay, 0, 1, false, true);
  // The EMA's start and standing statistics (written into the resolved config only with EMA on).
  if (f.reading_or(t.ema_decay > 0)) {
    f.field("ema_start", t.ema_start, 0, int64_t{1} << 40);
    f.field("ema_standing_batches", t.ema_standing_batches, 0, 1 << 20);
  }
  // D's penalties (0 = off; written into the resolved config only when on).
  if (f.reading_or(t.gradient_penalty > 0)) f.field("gradient_penalty", t.gradient_penalty);
  f.range("gradient_penalty", t.gradient_penalty, 0, 1e6, false, false);
  if (f.reading_or(t.r1_penalty > 0)) f.field("r1_penalty", t.r1_penalty);
  f.range("r1_penalty", t.r1_penalty, 0, 1e6, false, false);
  // Written into the resolved config only when not the default fp32.
  if (f.reading_or(t.precision != kernels::Precision::kFp32)) f.choice("precision", t.precision, kPrecisions);
  f.finish();
}

void output_fields(Fields f, OutputConfig& o) {
  f.field("log_every", o.log_every, 1, int64_t{1} << 40);
  f.field("checkpoint_every", o.checkpoint_every, 0, int64_t{1} << 40);
  f.field("sample_count", o.sample_count, 1, 4096);
  f.field("sample_ema", o.sample_ema);
  f.field("eval_every", o.eval_every, 0, int64_t{1} << 40);
  if (f.reading_or(o.eval_every > 0)) {  // resolved configs of runs without evaluation stay as they were
    f.field("eval_samples", o.eval_samples, 10, 1 << 20);
    f.field("eval_real_images", o.eval_real_images, 10, 1 << 24);
    f.field("eval_features", o.eval_features);
    f.field("eval_reference", o.eval_reference);
    f.choice("eval_metric", o.eval_metric, {"fd", "kid", "is"});
  }
  f.finish();
}

void run_fields(Fields f, RunConfig& c) {
  f.field("seed", c.seed, 0, INT64_MAX);
  f.field("threads", c.threads, 0, 1024);
  data_fields(f.child("data"), c);
  model_fields(f.child("model"), c);
  train_fields(f.child("train"), c);
  if (f.reading()) {
    try {
      check_d_method(c.train, c.discriminator);  // combinations the math does not allow
    } catch (const Error& e) {
      throw Error(detail::concat(f.source(), ": ", e.what()));
    }
  }
  output_fields(f.child("output"), c.output);
  f.finish();
}

}  // namespace

json load_json_file(const std::string& path) {
  std::ifstream in(path);
  SNGAN_CHECK(in, path, ": cannot open the config file (expected a readable JSON file)");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    throw Error(detail::concat(path, ": not valid JSON: ", e.what()));
  }
}

void apply_override(json& doc, const std::string& assignment) {
  try {
    (void)json(assignment).dump();  // throws on bytes that are not UTF-8
  } catch (const json::type_error&) {
    throw Error("--set " + json(assignment).dump(-1, ' ', false, json::error_handler_t::replace) +
                ": expected UTF-8 text, got bytes that are not (shown as U+FFFD)");
  }
  const size_t eq = assignment.find('=');
  SNGAN_CHECK(eq != std::string::npos && eq > 0, "--set '", assignment, "': expected key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::exception&) {  // parse_error, or out_of_range (1e400)
    value = text;                     // a bare word: a string
  }
  json* node = &doc;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    SNGAN_CHECK(!key.empty(), "--set '", assignment, "': empty key in the path");
    if (!node->is_object()) *node = json::object();
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

bool is_image_data(const RunConfig& c) { return !is_toy_format(c.data.format); }

RunConfig parse_run_config(const json& doc, const std::string& source, std::set<std::string>* keys_read) {
  RunConfig c;
  c.data.format = "idx";
  run_fields(Fields::reader(doc, source, keys_read), c);
  // Values derived from others, not keys of their own.
  c.train.seed = c.loader.seed = c.data.toy.seed = c.seed;
  c.loader.batch_size = static_cast<int>(c.train.batch_size);
  run_fields(Fields::writer(c.resolved), c);
  return c;
}

}  // namespace sngan
