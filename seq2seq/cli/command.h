// The subcommands of the s2s binary and the helpers they share for option parsing. Each
// subcommand lives in its own file and registers itself in commands() (command.cc).
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace s2s::cli {

struct Command {
  std::string name;                               // "version"
  std::string summary;                            // one line for `s2s --help`
  std::function<int(int argc, char** argv)> run;  // argv[0] is the subcommand's name
};

const std::vector<Command>& commands();

// Thrown for a command-line mistake: main prints it as one line and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses argv against options (plus a --help of its own). Returns false when --help was given
// and the usage was printed; throws UsageError naming an unknown or malformed option.
bool parse_options(
    const std::string& command, const std::string& synopsis,
    const boost::program_options::options_description& options, int argc, char** argv,
    boost::program_options::variables_map& values,
    const boost::program_options::positional_options_description* positional = nullptr);

// Removes every `--dotted.key VALUE` and `--dotted.key=VALUE` from argv (argc adjusted) and
// returns them in order as recipe overrides (api::Overrides); an option whose name has a dot is
// a recipe key, never a flag.
std::vector<std::pair<std::string, std::string>> take_overrides(int& argc, char** argv);

int run_version(int argc, char** argv);
int run_average(int argc, char** argv);
int run_quantize(int argc, char** argv);
int run_shortlist(int argc, char** argv);
int run_bleu(int argc, char** argv);
int run_eval(int argc, char** argv);  // eval.cc: `s2s eval captions`
int run_vocab(int argc, char** argv);
int run_train(int argc, char** argv);
int run_translate(int argc, char** argv);
int run_score(int argc, char** argv);
int run_reply_data(int argc, char** argv);
int run_reply(int argc, char** argv);
int run_caption(int argc, char** argv);
int run_verify(int argc, char** argv);  // verify.cc: `s2s verify FOLDER...`
int run_serve(int argc, char** argv);   // serve.cc: `s2s serve -m NAME=MODEL_DIR ...`
int run_plot(int argc, char** argv);    // plot.cc: `s2s plot RUN... -o curves.png`

}  // namespace s2s::cli
