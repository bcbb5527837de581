// Fields: one JSON object of a config bound to struct fields, in one of two directions.
//   reading: JSON -> fields. A present key is type- and range-checked and stored; an absent
//            key leaves the field's default. finish() refuses keys that were never asked for.
//   writing: fields -> JSON (the resolved config: every value as it will be used).
// A config schema is a function that names each key once, through a Fields; called with a
// reader it parses, called with a writer it prints what it parsed, so a key cannot be read
// without being written. Validation and defaults that depend on other keys are the reader's
// business only (guard them with reading()).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor/check.h"

namespace sngan {

// The config names of an enum's values: one table per enum, used both ways.
template <typename E>
using NameTable = std::vector<std::pair<E, const char*>>;

class Fields {
 public:
  // `source` names the file in messages; `keys_read`, when not null, collects the path of every
  // key the schema asks for ("train.lr_g"), for tests of the schema.
  static Fields reader(const nlohmann::json& doc, const std::string& source,
                       std::set<std::string>* keys_read = nullptr);
  static Fields writer(nlohmann::json& doc);

  bool reading() const { return in_mode_; }
  // Whether a key that only exists under `condition` is bound: always when reading (a key
  // given where it does not apply is then refused by the schema), only when `condition` holds
  // when writing.
  bool reading_or(bool condition) const { return in_mode_ || condition; }
  bool has(const std::string& key) const { return find(key) != nullptr; }
  std::string path_of(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& source() const { return source_; }

  Fields child(const std::string& key);

  void field(const std::string& key, std::string& value);
  void field(const std::string& key, bool& value);
  void field(const std::string& key, double& value);
  void field(const std::string& key, float& value);
  void field(const std::string& key, std::vector<int64_t>& value);  // positive integers
  // Integers in [lo, hi].
  template <typename Int>
  void field(const std::string& key, Int& value, int64_t lo, int64_t hi) {
    if (!in_mode_) {
      (*out_)[key] = value;
      return;
    }
    if (const nlohmann::json* v = take(key)) value = static_cast<Int>(read_int(key, *v, lo, hi));
  }
  // One of the listed words.
  void choice(const std::string& key, std::string& value, const std::vector<std::string>& allowed);
  template <typename E>
  void choice(const std::string& key, E& value, const NameTable<E>& names) {
    std::string word = name_of(value, names);
    std::vector<std::string> allowed;
    for (const auto& [e, name] : names) allowed.emplace_back(name);
    choice(key, word, allowed);
    for (const auto& [e, name] : names)
      if (word == name) value = e;
  }
  // A key read only as a shorthand for others that are written instead (train.lr sets
  // train.lr_g and train.lr_d). Returns the value when present.
  const nlohmann::json* alias(const std::string& key);

  // Reading: throws unless value lies in the interval (a bound is open when its flag is set).
  void range(const std::string& key, double value, double lo, double hi, bool lo_open,
             bool hi_open) const;
  // Throws "<source>: <path.key>: <message>".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  // Reading: throws for keys present in the object but never asked for.
  void finish() const;

  template <typename E>
  static const char* name_of(E value, const NameTable<E>& names) {
    for (const auto& [e, name] : names)
      if (e == value) return name;
    return "?";
  }

 private:
  Fields(const nlohmann::json* in, nlohmann::json* out, std::string path, std::string source,
         std::shared_ptr<std::set<std::string>> used_paths, std::set<std::string>* keys_read);
  const nlohmann::json* find(const std::string& key) const;
  const nlohmann::json* take(const std::string& key);
  int64_t read_int(const std::string& key, const nlohmann::json& v, int64_t lo, int64_t hi) const;
  [[noreturn]] void fail_type(const std::string& where, const std::string& expected,
                              const nlohmann::json& got) const;

  bool in_mode_;
  const nlohmann::json* in_;  // reading: the object (null when absent)
  nlohmann::json* out_;       // writing: the object being filled
  std::string path_, source_;
  std::shared_ptr<std::set<std::string>> used_;  // keys of this object asked for
  std::set<std::string>* keys_read_;
};

}  // namespace sngan
