#include "app/config_fields.h"

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
}  // namespace

Fields::Fields(const json* in, json* out, std::string path, std::string source,
               std::shared_ptr<std::set<std::string>> used_paths, std::set<std::string>* keys_read)
    : in_mode_(out == nullptr), in_(in), out_(out), path_(std::move(path)),
      source_(std::move(source)), used_(std::move(used_paths)), keys_read_(keys_read) {
  if (in_mode_ && in_ && !in_->is_object())
    fail_type(path_.empty() ? "the top level" : path_, "an object", *in_);
}

Fields Fields::reader(const json& doc, const std::string& source, std::set<std::string>* keys_read) {
  return Fields(&doc, nullptr, "", source, std::make_shared<std::set<std::string>>(), keys_read);
}

Fields Fields::writer(json& doc) {
  if (!doc.is_object()) doc = json::object();
  return Fields(nullptr, &doc, "", "", std::make_shared<std::set<std::string>>(), nullptr);
}

Fields Fields::child(const std::string& key) {
  if (!in_mode_) {
    json& sub = (*out_)[key];
    if (!sub.is_object()) sub = json::object();
    return Fields(nullptr, &sub, path_of(key), source_, std::make_shared<std::set<std::string>>(),
                  nullptr);
  }
  return Fields(take(key), nullptr, path_of(key), source_,
                std::make_shared<std::set<std::string>>(), keys_read_);
}

const json* Fields::find(const std::string& key) const {
  if (!in_mode_ || !in_) return nullptr;
  auto it = in_->find(key);
  return it == in_->end() ? nullptr : &*it;
}

const json* Fields::take(const std::string& key) {
  used_->insert(key);
  if (keys_read_) keys_read_->insert(path_of(key));
  return find(key);
}

void Fields::field(const std::string& key, std::string& value) {
  if (!in_mode_) {
    (*out_)[key] = value;
  } else if (const json* v = take(key)) {
    if (!v->is_string()) fail_type(path_of(key), "a string", *v);
    value = v->get<std::string>();
  }
}

void Fields::field(const std::string& key, bool& value) {
  if (!in_mode_) {
    (*out_)[key] = value;
  } else if (const json* v = take(key)) {
    if (!v->is_boolean()) fail_type(path_of(key), "true or false", *v);
    value = v->get<bool>();
  }
}

void Fields::field(const std::string& key, double& value) {
  if (!in_mode_) {
    (*out_)[key] = value;
  } else if (const json* v = take(key)) {
    if (!v->is_number()) fail_type(path_of(key), "a number", *v);
    value = v->get<double>();
  }
}

void Fields::field(const std::string& key, float& value) {
  if (!in_mode_) {
    (*out_)[key] = value;
    return;
  }
  double d = value;
  field(key, d);
  value = static_cast<float>(d);
}

void Fields::field(const std::string& key, std::vector<int64_t>& value) {
  if (!in_mode_) {
    (*out_)[key] = value;
  } else if (const json* v = take(key)) {
    if (!v->is_array()) fail_type(path_of(key), "an array of integers", *v);
    value.clear();
    for (const json& e : *v) {
      if (!e.is_number_integer() || e.get<int64_t>() <= 0)
        fail_type(path_of(key), "an array of positive integers", *v);
      value.push_back(e.get<int64_t>());
    }
  }
}

int64_t Fields::read_int(const std::string& key, const json& v, int64_t lo, int64_t hi) const {
  if (!v.is_number_integer() && !v.is_number_unsigned()) fail_type(path_of(key), "an integer", v);
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi)
    fail(key, detail::concat("expected an integer in [", lo, ", ", hi, "], got ", x));
  return x;
}

void Fields::choice(const std::string& key, std::string& value, const std::vector<std::string>& allowed) {
  field(key, value);
  if (!in_mode_) return;
  for (const auto& a : allowed)
    if (value == a) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string("\"") + a + "\"";
  fail(key, detail::concat("expected one of ", list, ", got \"", value, "\""));
}

const json* Fields::alias(const std::string& key) { return in_mode_ ? take(key) : nullptr; }

void Fields::range(const std::string& key, double value, double lo, double hi, bool lo_open,
                   bool hi_open) const {
  if (!in_mode_) return;
  const bool ok = (lo_open ? value > lo : value >= lo) && (hi_open ? value < hi : value <= hi);
  if (!ok)
    fail(key, detail::concat("expected a value in ", lo_open ? "(" : "[", lo, ", ", hi,
                             hi_open ? ")" : "]", ", got ", value));
}

void Fields::fail(const std::string& key, const std::string& message) const {
  throw Error(detail::concat(source_, ": ", path_of(key), ": ", message));
}

void Fields::fail_type(const std::string& where, const std::string& expected, const json& got) const {
  const std::string shown = got.dump(-1, ' ', false, json::error_handler_t::replace);
  throw Error(detail::concat(source_, ": ", where, ": expected ", expected, ", got ", type_name(got),
                             " (", shown.substr(0, 60), ")"));
}

void Fields::finish() const {
  if (!in_mode_ || !in_) return;
  for (auto it = in_->begin(); it != in_->end(); ++it)
    if (!used_->count(it.key())) {
      std::string known;
      for (const auto& k : *used_) known += (known.empty() ? "" : ", ") + k;
      throw Error(detail::concat(source_, ": unknown key '", path_of(it.key()), "' (known keys",
                                 path_.empty() ? "" : " of '" + path_ + "'", ": ", known, ")"));
    }
}

}  // namespace sngan
