#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"sngan: spectrally normalized GANs on the CPU"};
  app.set_version_flag("--version", std::string("sngan ") + SNGAN_VERSION);
  CLI11_PARSE(app, argc, argv);
  std::cout << app.help();
  return 0;
}
