#include "app/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "core/tensor/check.h"

namespace sngan {

using nlohmann::json;

namespace {

const char* type_name(const json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

// Reads one JSON object, remembering which keys were used so the rest can be reported as
// unknown. Each getter fills `out` only when the key is present.
class Section {
 public:
  Section(const json* obj, std::string path, std::string source)
      : obj_(obj), path_(std::move(path)), source_(std::move(source)) {
    if (obj_ && !obj_->is_object()) fail(path_.empty() ? "the top level" : path_, "an object", *obj_);
  }

  Section child(const std::string& key) {
    used_.insert(key);
    const json* v = find(key);
    return Section(v, join(key), source_);
  }
  bool has(const std::string& key) const { return find(key) != nullptr; }

  void get(const std::string& key, std::string& out) {
    if (const json* v = take(key)) {
      if (!v->is_string()) fail(join(key), "a string", *v);
      out = v->get<std::string>();
    }
  }
  void get(const std::string& key, bool& out) {
    if (const json* v = take(key)) {
      if (!v->is_boolean()) fail(join(key), "true or false", *v);
      out = v->get<bool>();
    }
  }
  void get(const std::string& key, double& out) {
    if (const json* v = take(key)) {
      if (!v->is_number()) fail(join(key), "a number", *v);
      out = v->get<double>();
    }
  }
  void get(const std::string& key, float& out) {
    double d = out;
    get(key, d);
    out = static_cast<float>(d);
  }
  template <typename Int>
  void get_int(const std::string& key, Int& out, int64_t lo, int64_t hi) {
    if (const json* v = take(key)) {
      if (!v->is_number_integer() && !v->is_number_unsigned()) fail(join(key), "an integer", *v);
      const int64_t x = v->get<int64_t>();
      if (x < lo || x > hi)
        throw Error(detail::concat(source_, ": ", join(key), ": expected an integer in [", lo, ", ",
                                   hi, "], got ", x));
      out = static_cast<Int>(x);
    }
  }
  void get(const std::string& key, std::vector<int64_t>& out) {
    if (const json* v = take(key)) {
      if (!v->is_array()) fail(join(key), "an array of integers", *v);
      out.clear();
      for (const json& e : *v) {
        if (!e.is_number_integer() || e.get<int64_t>() <= 0)
          fail(join(key), "an array of positive integers", *v);
        out.push_back(e.get<int64_t>());
      }
    }
  }
  // One of the listed words.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed) {
    std::string s = fallback;
    get(key, s);
    for (const auto& a : allowed)
      if (s == a) return s;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string("\"") + a + "\"";
    throw Error(detail::concat(source_, ": ", join(key), ": expected one of ", list, ", got \"", s,
                               "\""));
  }
  void range(const std::string& key, double value, double lo, double hi, bool lo_open, bool hi_open) {
    const bool ok = (lo_open ? value > lo : value >= lo) && (hi_open ? value < hi : value <= hi);
    if (!ok)
      throw Error(detail::concat(source_, ": ", join(key), ": expected a value in ",
                                 lo_open ? "(" : "[", lo, ", ", hi, hi_open ? ")" : "]", ", got ",
                                 value));
  }
  // Throws for keys present in the object but never read.
  void finish() const {
    if (!obj_) return;
    for (auto it = obj_->begin(); it != obj_->end(); ++it)
      if (!used_.count(it.key())) {
        std::string known;
        for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
        throw Error(detail::concat(source_, ": unknown key '", join(it.key()), "' (known keys",
                                   path_.empty() ? "" : " of '" + path_ + "'", ": ", known, ")"));
      }
  }
  std::string join(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  const json* find(const std::string& key) const {
    if (!obj_) return nullptr;
    auto it = obj_->find(key);
    return it == obj_->end() ? nullptr : &*it;
  }
  const json* take(const std::string& key) {
    used_.insert(key);
    return find(key);
  }
  [[noreturn]] void fail(const std::string& where, const std::string& expected, const json& got) const {
    const std::string shown = got.dump(-1, ' ', false, json::error_handler_t::replace);
    throw Error(detail::concat(source_, ": ", where, ": expected ", expected, ", got ", type_name(got),
                               " (", shown.substr(0, 60), ")"));
  }

  const json* obj_;
  std::string path_, source_;
  std::set<std::string> used_;
};

InitScheme parse_init(const std::string& s) {
  return s == "normal_0.02" ? InitScheme::kNormal002 : InitScheme::kGlorot;
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
  SNGAN_CHECK(eq != std::string::npos && eq > 0, "--set '", assignment,
              "': expected key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::exception&) {  // parse_error, or out_of_range (1e400)
    value = text;  // a bare word: a string
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

bool is_image_data(const RunConfig& c) { return c.data.format != "ring8" && c.data.format != "grid25"; }

RunConfig parse_run_config(const json& doc, const std::string& source) {
  RunConfig c;
  Section top(&doc, "", source);
  top.get_int("seed", c.seed, 0, INT64_MAX);
  top.get_int("threads", c.threads, 0, 1024);

  // ---- data ----
  Section data = top.child("data");
  c.data.format = data.choice("format", "idx", {"idx", "cifar10", "cifar100", "stl10", "folder", "ring8", "grid25"});
  const bool toy = c.data.format == "ring8" || c.data.format == "grid25";
  data.get("path", c.data.path);
  if (!toy && c.data.path.empty())
    throw Error(detail::concat(source, ": data.path: expected the dataset location for format \"",
                               c.data.format, "\", got nothing"));
  c.data.split = data.choice("split", "train", {"train", "test", "unlabeled"});
  // Keys of one format only: given for another, they would be silently ignored.
  auto only_for = [&](const char* key, bool applies, const char* formats) {
    if (data.has(key) && !applies)
      throw Error(detail::concat(source, ": data.", key, ": expected only with data.format ", formats,
                                 ", got data.format \"", c.data.format, "\""));
  };
  only_for("labels_path", c.data.format == "idx", "\"idx\"");
  only_for("coarse_labels", c.data.format == "cifar100", "\"cifar100\"");
  only_for("toy", toy, "\"ring8\" or \"grid25\"");
  data.get("labels_path", c.data.labels_path);
  data.get("coarse_labels", c.data.coarse_labels);
  int image_size = 32, channels = toy ? 2 : 3;
  data.get_int("image_size", image_size, 8, 1024);
  data.get_int("channels", channels, 1, 3);
  c.preprocess.image_size = image_size;
  c.preprocess.channels = channels;
  if (!toy && channels == 2)
    throw Error(detail::concat(source, ": data.channels: expected 1 (grey) or 3 (RGB), got 2"));
  c.preprocess.fit = data.choice("fit", "pad", {"pad", "resize", "crop"});
  data.get("dequantize", c.preprocess.dequantize);
  data.get("random_flip", c.preprocess.random_flip);
  data.get("shuffle", c.loader.shuffle);
  data.get("drop_last", c.loader.drop_last);
  data.get_int("prefetch", c.loader.prefetch, 0, 64);
  Section toycfg = data.child("toy");
  c.data.toy.kind = c.data.format;
  toycfg.get_int("size", c.data.toy.size, 1, int64_t{1} << 40);
  c.data.toy.std = toy2d_std(c.data.toy);  // the kind's default unless given
  toycfg.get("std", c.data.toy.std);
  toycfg.get("radius", c.data.toy.radius);
  toycfg.get("spacing", c.data.toy.spacing);
  toycfg.range("std", c.data.toy.std, 0, 1e6, true, false);
  toycfg.range("radius", c.data.toy.radius, 0, 1e6, true, false);
  toycfg.range("spacing", c.data.toy.spacing, 0, 1e6, true, false);
  toycfg.finish();
  data.finish();

  // ---- model ----
  Section model = top.child("model");
  const std::string arch = model.choice("architecture", toy ? "mlp" : "standard_cnn", {"standard_cnn", "resnet", "mlp"});
  const Architecture a = arch == "resnet" ? Architecture::kResNet
                       : arch == "mlp"    ? Architecture::kMlp
                                          : Architecture::kStandardCnn;
  if (toy != (a == Architecture::kMlp))
    throw Error(detail::concat(source, ": model.architecture: expected \"mlp\" for the toy 2D sets and an image "
                               "model (\"standard_cnn\", \"resnet\") for images, got \"", arch, "\" for data.format \"",
                               c.data.format, "\""));
  if (a == Architecture::kStandardCnn && image_size % 8 != 0)
    throw Error(detail::concat(source, ": data.image_size: expected a multiple of 8 for model.architecture "
                               "\"standard_cnn\", got ", image_size));
  if (a == Architecture::kResNet && image_size != 32 && image_size != 48)
    throw Error(detail::concat(source, ": data.image_size: expected 32 or 48 for model.architecture \"resnet\", got ",
                               image_size));
  GeneratorConfig& g = c.generator;
  DiscriminatorConfig& d = c.discriminator;
  g.architecture = d.architecture = a;
  g.image_size = d.image_size = image_size;
  g.channels = d.channels = channels;
  model.get_int("z_dim", g.z_dim, 1, 1 << 16);
  g.z_distribution = model.choice("z_distribution", "normal", {"normal", "uniform"}) == "uniform"
                         ? ZDistribution::kUniform : ZDistribution::kNormal;
  g.init = d.init = parse_init(model.choice("init", "glorot", {"glorot", "normal_0.02"}));
  if (a == Architecture::kResNet) {
    g.base_channels = image_size == 48 ? 512 : 256;
    d.base_channels = image_size == 48 ? 64 : 128;
  }
  Section gs = model.child("generator");
  gs.get_int("base_channels", g.base_channels, 1, 1 << 14);
  gs.get("bn_after_dense", g.bn_after_dense);
  gs.get_int("mlp_hidden", g.mlp_hidden, 1, 1 << 16);
  gs.get_int("mlp_layers", g.mlp_layers, 0, 64);
  gs.finish();
  Section ds = model.child("discriminator");
  ds.get("conv_channels", d.conv_channels);
  if (d.conv_channels.size() != 7)
    throw Error(detail::concat(source, ": model.discriminator.conv_channels: expected 7 widths, got ",
                               d.conv_channels.size()));
  ds.get("leaky_slope", d.leaky_slope);
  ds.range("leaky_slope", d.leaky_slope, 0, 1, false, true);
  ds.get_int("base_channels", d.base_channels, 1, 1 << 14);
  d.normalization = ds.choice("normalization", "spectral", {"spectral", "none"}) == "none"
                        ? DNormalization::kNone : DNormalization::kSpectral;
  ds.get_int("sn_power_iterations", d.spectral_norm.power_iterations, 0, 100);
  d.spectral_norm.eps_style = ds.choice("sn_eps_style", "chainer", {"chainer", "pytorch"}) == "pytorch"
                                  ? SnEpsStyle::kPyTorch : SnEpsStyle::kChainer;
  ds.get_int("mlp_hidden", d.mlp_hidden, 1, 1 << 16);
  ds.get_int("mlp_layers", d.mlp_layers, 0, 64);
  ds.finish();
  model.finish();

  // ---- train ----
  Section tr = top.child("train");
  TrainConfig& t = c.train;
  std::string setting;
  tr.get("setting", setting);
  if (!setting.empty()) {
    AdamSetting s;
    if (!paper_setting(setting, &s))
      throw Error(detail::concat(source, ": train.setting: expected one of the paper's settings "
                                 "\"A\"..\"F\", got \"", setting, "\""));
    t.lr_g = t.lr_d = s.lr;
    t.beta1 = s.beta1;
    t.beta2 = s.beta2;
    t.n_dis = s.n_dis;
  }
  const std::string loss = tr.choice("loss", "standard", {"standard", "hinge", "wasserstein"});
  t.loss = loss == "hinge" ? LossType::kHinge : loss == "wasserstein" ? LossType::kWasserstein : LossType::kStandard;
  tr.get_int("iterations", t.iterations, 1, int64_t{1} << 40);
  tr.get_int("batch_size", t.batch_size, 1, 1 << 20);
  t.g_batch_size = t.batch_size;
  tr.get_int("g_batch_size", t.g_batch_size, 1, 1 << 20);
  tr.get_int("n_dis", t.n_dis, 1, 1000);
  double lr = 0;
  if (tr.has("lr")) {
    SNGAN_CHECK(!tr.has("lr_g") && !tr.has("lr_d"), source,
                ": train.lr: expected either train.lr (both nets) or train.lr_g/train.lr_d, got both");
    tr.get("lr", lr);
    t.lr_g = t.lr_d = lr;
  }
  tr.get("lr_g", t.lr_g);
  tr.get("lr_d", t.lr_d);
  tr.range("lr_g", t.lr_g, 0, 1e3, true, false);
  tr.range("lr_d", t.lr_d, 0, 1e3, true, false);
  tr.get("beta1", t.beta1);
  tr.get("beta2", t.beta2);
  tr.range("beta1", t.beta1, 0, 1, false, true);
  tr.range("beta2", t.beta2, 0, 1, false, true);
  t.lr_decay = tr.choice("lr_decay", "none", {"none", "linear"}) == "linear" ? LrDecay::kLinear : LrDecay::kNone;
  tr.get("ema_decay", t.ema_decay);
  tr.range("ema_decay", t.ema_decay, 0, 1, false, true);
  tr.finish();
  t.seed = c.seed;

  // ---- output ----
  Section out = top.child("output");
  out.get_int("log_every", c.output.log_every, 1, int64_t{1} << 40);
  out.get_int("checkpoint_every", c.output.checkpoint_every, 0, int64_t{1} << 40);
  out.get_int("sample_count", c.output.sample_count, 1, 4096);
  out.get("sample_ema", c.output.sample_ema);
  out.finish();
  top.finish();

  c.loader.batch_size = static_cast<int>(t.batch_size);
  c.loader.seed = c.seed;
  c.data.toy.seed = c.seed;

  // The resolved config: every value as it will be used.
  json r;
  r["seed"] = c.seed;
  r["threads"] = c.threads;
  r["data"] = {{"format", c.data.format}, {"path", c.data.path}, {"split", c.data.split},
               {"image_size", image_size}, {"channels", channels}, {"fit", c.preprocess.fit},
               {"dequantize", c.preprocess.dequantize}, {"random_flip", c.preprocess.random_flip},
               {"shuffle", c.loader.shuffle}, {"drop_last", c.loader.drop_last},
               {"prefetch", c.loader.prefetch}};
  if (!c.data.labels_path.empty()) r["data"]["labels_path"] = c.data.labels_path;
  if (c.data.format == "cifar100") r["data"]["coarse_labels"] = c.data.coarse_labels;
  if (toy)
    r["data"]["toy"] = {{"size", c.data.toy.size}, {"std", c.data.toy.std},
                        {"radius", c.data.toy.radius}, {"spacing", c.data.toy.spacing}};
  r["model"] = {{"architecture", arch}, {"z_dim", g.z_dim},
                {"z_distribution", g.z_distribution == ZDistribution::kUniform ? "uniform" : "normal"},
                {"init", g.init == InitScheme::kNormal002 ? "normal_0.02" : "glorot"}};
  r["model"]["generator"] = {{"base_channels", g.base_channels}, {"bn_after_dense", g.bn_after_dense},
                             {"mlp_hidden", g.mlp_hidden}, {"mlp_layers", g.mlp_layers}};
  r["model"]["discriminator"] = {
      {"conv_channels", d.conv_channels}, {"leaky_slope", d.leaky_slope},
      {"base_channels", d.base_channels},
      {"normalization", d.normalization == DNormalization::kNone ? "none" : "spectral"},
      {"sn_power_iterations", d.spectral_norm.power_iterations},
      {"sn_eps_style", d.spectral_norm.eps_style == SnEpsStyle::kPyTorch ? "pytorch" : "chainer"},
      {"mlp_hidden", d.mlp_hidden}, {"mlp_layers", d.mlp_layers}};
  r["train"] = {{"loss", loss}, {"iterations", t.iterations}, {"batch_size", t.batch_size},
                {"g_batch_size", t.g_batch_size}, {"n_dis", t.n_dis}, {"lr_g", t.lr_g},
                {"lr_d", t.lr_d}, {"beta1", t.beta1}, {"beta2", t.beta2},
                {"lr_decay", t.lr_decay == LrDecay::kLinear ? "linear" : "none"},
                {"ema_decay", t.ema_decay}};
  if (!setting.empty()) r["train"]["setting"] = setting;
  r["output"] = {{"log_every", c.output.log_every}, {"checkpoint_every", c.output.checkpoint_every},
                 {"sample_count", c.output.sample_count}, {"sample_ema", c.output.sample_ema}};
  c.resolved = r;
  return c;
}

}  // namespace sngan
