// The config schema (app/config.cpp): every key the parser accepts appears in the resolved
// config with the value given, and the resolved config parses back to itself.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "app/config.h"

namespace sngan {
namespace {

using nlohmann::json;

// Keys read only as shorthands for others, which the resolved config holds instead.
const std::set<std::string> kAliases = {"train.lr"};

// Documents that together give every key a value other than its default.
json image_doc() {
  return json::parse(R"({
    "seed": 7, "threads": 3,
    "data": {"format": "idx", "path": "/data/images-idx3-ubyte", "labels_path": "/data/labels-idx1-ubyte",
             "split": "test", "image_size": 48, "channels": 1, "fit": "resize", "dequantize": true,
             "random_flip": true, "shuffle": false, "drop_last": false, "prefetch": 5},
    "model": {"architecture": "resnet", "z_dim": 64, "z_distribution": "uniform", "init": "normal_0.02",
              "generator": {"base_channels": 96, "bn_after_dense": true, "mlp_hidden": 17, "mlp_layers": 2},
              "discriminator": {"conv_channels": [8, 9, 10, 11, 12, 13, 14], "leaky_slope": 0.25,
                                "base_channels": 40, "normalization": "none", "sn_power_iterations": 3,
                                "sn_eps_style": "pytorch", "mlp_hidden": 19, "mlp_layers": 4}},
    "train": {"setting": "D", "loss": "hinge", "iterations": 1234, "batch_size": 32, "g_batch_size": 48,
              "n_dis": 3, "lr_g": 3e-4, "lr_d": 4e-4, "beta1": 0.25, "beta2": 0.75, "lr_decay": "linear",
              "ema_decay": 0.995, "ema_start": 7, "ema_standing_batches": 3,
              "gradient_penalty": 5, "r1_penalty": 0.5, "precision": "bf16"},
    "output": {"log_every": 11, "checkpoint_every": 22, "sample_count": 33, "sample_ema": false,
               "eval_every": 44, "eval_samples": 55, "eval_real_images": 66, "eval_features": "/m/f.safetensors",
               "eval_reference": "/m/ref.safetensors", "eval_metric": "kid"}})");
}

json cifar100_doc() {
  return json::parse(R"({"data": {"format": "cifar100", "path": "/data/cifar-100-binary", "coarse_labels": true},
                         "model": {"discriminator": {"normalization": "orthonormal", "orthonormal_penalty": 0.001}},
                         "train": {"lr": 5e-4}})");
}

json toy_doc() {
  return json::parse(R"({"data": {"format": "grid25", "toy": {"size": 999, "std": 0.5, "radius": 3.5, "spacing": 1.5}},
                         "model": {"discriminator": {"normalization": "weight_clip", "clip_value": 0.05}}})");
}

// Leaf paths of a document ("data.toy.size"), with their values.
void leaves(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (!j.is_object()) {
    out[prefix] = j;
    return;
  }
  for (auto it = j.begin(); it != j.end(); ++it)
    leaves(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
}

TEST(ConfigSchema, EveryGivenKeyAppearsInTheResolvedConfigWithItsValue) {
  for (const json& doc : {image_doc(), cifar100_doc(), toy_doc()}) {
    const RunConfig c = parse_run_config(doc, "doc.json");
    std::map<std::string, json> given, resolved;
    leaves(doc, "", given);
    leaves(c.resolved, "", resolved);
    for (const auto& [path, value] : given) {
      if (kAliases.count(path)) continue;
      ASSERT_TRUE(resolved.count(path)) << path << " is accepted but missing from the resolved config";
      if (value.is_number_float() || resolved.at(path).is_number_float())
        EXPECT_NEAR(value.get<double>(), resolved.at(path).get<double>(), 1e-7 * std::abs(value.get<double>()))
            << path;
      else
        EXPECT_EQ(value, resolved.at(path)) << path;
    }
  }
}

TEST(ConfigSchema, TheTestDocumentsGiveEveryKeyTheParserReads) {
  // A key added to the schema must be added to the documents above, so the test above checks it.
  std::set<std::string> read, given;
  for (const json& doc : {image_doc(), cifar100_doc(), toy_doc()}) {
    parse_run_config(doc, "doc.json", &read);
    std::map<std::string, json> l;
    leaves(doc, "", l);
    for (const auto& [path, v] : l) given.insert(path);
  }
  for (const std::string& path : read) {
    if (path != "data" && path != "model" && path != "train" && path != "output" &&
        path != "data.toy" && path != "model.generator" && path != "model.discriminator") {
      EXPECT_TRUE(given.count(path)) << path << " is read by the parser but no test document gives it";
    }
  }
}

TEST(ConfigSchema, TheResolvedConfigRoundTrips) {
  for (const json& doc : {image_doc(), cifar100_doc(), toy_doc(), json::object(),
                          json::parse(R"({"data": {"format": "ring8"}})")}) {
    if (doc.empty()) continue;  // the empty document has no data.path
    const RunConfig once = parse_run_config(doc, "doc.json");
    const RunConfig twice = parse_run_config(once.resolved, "resolved.json");
    EXPECT_EQ(once.resolved, twice.resolved) << doc.dump();
  }
}

TEST(ConfigSchema, TheResolvedConfigNamesDefaultsToo) {
  const RunConfig c = parse_run_config(json::parse(R"({"data": {"path": "/d"}})"), "min.json");
  EXPECT_EQ(c.resolved["model"]["architecture"], "standard_cnn");
  EXPECT_EQ(c.resolved["model"]["discriminator"]["normalization"], "spectral");
  EXPECT_EQ(c.resolved["train"]["loss"], "standard");
  EXPECT_EQ(c.resolved["train"]["g_batch_size"], 64);
  EXPECT_FALSE(c.resolved["train"].contains("setting"));
  EXPECT_FALSE(c.resolved["data"].contains("toy"));
  EXPECT_FALSE(c.resolved["data"].contains("coarse_labels"));
}

TEST(ConfigSchema, DiscriminatorMethodKeysBelongToTheirMethodAndBadCombinationsAreRefused) {
  auto error_of = [](const char* doc) {
    try {
      parse_run_config(json::parse(doc), "m.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(R"({"data": {"path": "/d"}, "model": {"discriminator": {"clip_value": 0.1}}})")
                .find("model.discriminator.clip_value: expected only with normalization \"weight_clip\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"data": {"path": "/d"}, "model": {"discriminator": {"normalization": "batch_norm"}},
                         "train": {"gradient_penalty": 10}})")
                .find("batch_norm cannot be combined with train.gradient_penalty"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"data": {"path": "/d"}, "train": {"r1_penalty": -1}})").find("train.r1_penalty"),
            std::string::npos);
  const RunConfig off = parse_run_config(json::parse(R"({"data": {"path": "/d"}})"), "d.json");
  EXPECT_FALSE(off.resolved["train"].contains("gradient_penalty"));  // off: not named
}

TEST(ConfigSchema, ASettingIsKeptAndItsValuesUsed) {
  const RunConfig c = parse_run_config(json::parse(R"({"data": {"path": "/d"}, "train": {"setting": "A"}})"), "a.json");
  EXPECT_EQ(c.resolved["train"]["setting"], "A");
  EXPECT_DOUBLE_EQ(c.train.lr_g, 1e-4);
  EXPECT_DOUBLE_EQ(c.train.beta2, 0.9);
  EXPECT_EQ(c.train.n_dis, 5);
  EXPECT_EQ(c.resolved["train"]["n_dis"], 5);
}

TEST(ConfigSchema, UnknownKeysAndBadEnumNamesAreRefusedNamingThePath) {
  auto message = [](const char* text) {
    try {
      parse_run_config(json::parse(text), "bad.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"data": {"path": "/d"}, "train": {"lossy": 1}})").find("unknown key 'train.lossy'"),
            std::string::npos);
  EXPECT_NE(message(R"({"data": {"path": "/d"}, "model": {"discriminator": {"normalization": "magic"}}})")
                .find("bad.json: model.discriminator.normalization: expected one of \"spectral\""),
            std::string::npos);
  EXPECT_NE(message(R"({"data": {"path": "/d"}, "train": {"lr": 1e-4, "lr_g": 1e-4}})").find("got both"),
            std::string::npos);
}

}  // namespace
}  // namespace sngan
