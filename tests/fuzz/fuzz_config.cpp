// libFuzzer target: run configs (app/config.cpp's parse_run_config).
//
// Input: JSON text, as in a --config file or the "config" metadata of a checkpoint, optionally
// preceded by one line "key.path=value" applied as a --set override (app/config.cpp's
// apply_override) before parsing; an override must be applied or refused with sngan::Error. Invalid
// JSON (nlohmann::json::exception: parse_error, or out_of_range for a number such as 1e400)
// is turned into sngan::Error by load_json_file / run_config_from_text; a parsed document must be
// accepted or rejected with sngan::Error. An accepted config's resolved form must parse again
// to the same resolved form: a resumed run compares the two (train_command.cpp), and
// `sngan sample` rebuilds the model from it.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "app/config.h"
#include "core/tensor/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string text = input, override_line;
  const size_t newline = input.find('\n');
  if (newline != std::string::npos && input.substr(0, newline).find('=') != std::string::npos &&
      input[0] != '{') {
    override_line = input.substr(0, newline);
    text = input.substr(newline + 1);
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  sngan::RunConfig config;
  try {
    if (!override_line.empty()) sngan::apply_override(doc, override_line);
    config = sngan::parse_run_config(doc, "fuzz.json");
  } catch (const sngan::Error&) {
    return 0;
  }
  // Round trip: resolved -> text -> JSON -> config -> resolved is the identity.
  const std::string resolved = config.resolved.dump();
  sngan::RunConfig again = sngan::parse_run_config(nlohmann::json::parse(resolved), "resolved");
  if (again.resolved != config.resolved) __builtin_trap();
  return 0;
}
