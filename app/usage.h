// Command-line usage errors: one clear line, a suggestion for a mistyped subcommand, and the
// exit codes the README documents.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace sngan {

// Exit codes of `sngan`.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // bad input: a config, a data set, a checkpoint, a run directory
  kExitUsage = 2,          // bad command line: unknown subcommand or option, missing argument
  kExitInternalError = 3,  // a bug in sngan
};

// The candidate closest to `word` by edit distance when it is close enough to be a likely
// typo (at most 2 edits, or a prefix of a candidate), else "".
std::string closest_word(const std::string& word, const std::vector<std::string>& candidates);

// Prints the message for a failed parse of argv and returns the exit code: CLI11's own output
// and code for --help and --version, else one line on stderr (naming an unknown subcommand and
// the closest one) and kExitUsage.
int report_usage_error(const CLI::App& app, const CLI::ParseError& error, int argc, char** argv);

}  // namespace sngan
