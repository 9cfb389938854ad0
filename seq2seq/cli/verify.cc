// `s2s verify FOLDER...`: checks model and checkpoint folders against their manifests
// (seq2seq/manifest.h), one line per file; exits 1 when a file is damaged or missing.
#include <filesystem>
#include <iostream>

#include "seq2seq/cli/command.h"
#include "seq2seq/manifest.h"

namespace po = boost::program_options;

namespace s2s::cli {

int run_verify(int argc, char** argv) {
  po::options_description options("Options");
  std::vector<std::string> folders;
  options.add_options()("folders", po::value(&folders)->composing(),
                        "model or checkpoint folders (run/model, run/checkpoints/step-...)");
  po::positional_options_description positional;
  positional.add("folders", -1);
  po::variables_map values;
  if (!parse_options("verify", "FOLDER [FOLDER...]", options, argc, argv, values, &positional))
    return 0;
  if (folders.empty()) throw UsageError("s2s verify: needs a model or checkpoint folder");
  bool all_ok = true;
  for (const std::string& folder : folders) {
    const FolderCheck check = check_folder(folder);
    for (const FileCheck& f : check.files) {
      std::cout << file_status_name(f.status) << "\t"
                << (std::filesystem::path(folder) / f.name).string() << "\t" << f.size << " bytes";
      if (!f.detail.empty()) std::cout << "\t" << f.detail;
      std::cout << "\n";
    }
    all_ok = all_ok && check.ok();
    if (!check.ok())
      std::cerr << "s2s verify: " << folder << ": " << check.problems().size()
                << " file(s) damaged or missing\n";
    else if (!check.has_manifest)
      std::cerr << "s2s verify: " << folder << ": unverified (no manifest)\n";
  }
  return all_ok ? 0 : 1;
}

}  // namespace s2s::cli
