// `s2s version`: what this binary is and what it was built with.
#include <iostream>

#include "seq2seq/cli/command.h"
#include "seq2seq/runtime.h"

namespace s2s::cli {

int run_version(int argc, char** argv) {
  boost::program_options::options_description options("Options");
  boost::program_options::variables_map values;
  if (!parse_options("version", "", options, argc, argv, values)) return 0;
  std::cout << "s2s " << version() << "\n"
            << "compiler: " << compiler() << "\n"
            << "blas:     " << blas() << "\n"
            << "int8:     " << int8_backend() << "\n"
            << "cuda:     " << cuda_support() << "\n"
            << "mpi:      " << mpi_support() << "\n"
            << "threads:  " << num_threads() << "\n";
  return 0;
}

}  // namespace s2s::cli
