#include "app/usage.h"

#include <algorithm>
#include <cstdio>

namespace sngan {

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string closest_word(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // more than 2 edits is not a typo
  for (const std::string& c : candidates) {
    const size_t d = (!word.empty() && c.rfind(word, 0) == 0) ? 1 : edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

int report_usage_error(const CLI::App& app, const CLI::ParseError& error, int argc, char** argv) {
  if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(sub->get_name());
  const std::string first = argc > 1 ? argv[1] : "";
  const bool unknown_command = !first.empty() && first[0] != '-' &&
                               std::find(commands.begin(), commands.end(), first) == commands.end();
  std::string list;
  for (const std::string& c : commands) list += (list.empty() ? "" : ", ") + c;
  if (unknown_command) {
    const std::string guess = closest_word(first, commands);
    std::fprintf(stderr, "sngan: error: unknown command '%s'%s (commands: %s; see sngan --help)\n", first.c_str(),
                 guess.empty() ? "" : ("; did you mean '" + guess + "'?").c_str(), list.c_str());
  } else if (argc <= 1) {
    std::fprintf(stderr, "sngan: error: expected a command (%s); see sngan --help\n", list.c_str());
  } else {
    std::fprintf(stderr, "sngan: error: %s (see sngan %s --help)\n", error.what(),
                 std::find(commands.begin(), commands.end(), first) != commands.end() ? first.c_str() : "");
  }
  return kExitUsage;
}

}  // namespace sngan
