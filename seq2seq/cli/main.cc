// The s2s binary: picks the subcommand and turns errors into one line and an exit code
// (0 success, 1 failure, 2 usage error).
#include <cstring>
#include <iostream>

#include "seq2seq/cli/command.h"
#include "seq2seq/error.h"

namespace {

void print_help() {
  std::cout << "usage: s2s COMMAND [OPTIONS]\n\nCommands:\n";
  for (const auto& c : s2s::cli::commands())
    std::cout << "  " << c.name << std::string(12 - std::min<size_t>(11, c.name.size()), ' ')
              << c.summary << "\n";
  std::cout << "\nRun `s2s COMMAND --help` for a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help();
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_help();
    return 0;
  }
  try {
    for (const auto& c : s2s::cli::commands())
      if (c.name == name) return c.run(argc - 1, argv + 1);
    std::cerr << "s2s: unknown command '" << name << "' (see s2s --help)\n";
    return 2;
  } catch (const s2s::cli::UsageError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const s2s::Error& e) {
    std::cerr << "s2s " << name << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "s2s " << name << ": unexpected error: " << e.what() << "\n";
    return 1;
  }
}
