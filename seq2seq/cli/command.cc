// The table of subcommands and the shared option parsing.
#include "seq2seq/cli/command.h"

#include <iostream>

#include "seq2seq/error.h"

namespace po = boost::program_options;

namespace s2s::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"version", "print the version, compiler, BLAS, CUDA and MPI support, thread count",
       run_version},
      {"average", "average the parameters of checkpoints of one run into a model folder",
       run_average},
      {"quantize",
       "write an int8 copy of a model folder: about a quarter of the size, faster on "
       "the CPU",
       run_quantize},
      {"shortlist",
       "add a lexical shortlist to a model folder: faster decoding over the pieces "
       "a corpus pairs with each source piece",
       run_shortlist},
      {"plot", "the learning curves of training runs (their log.jsonl) as a PNG", run_plot},
      {"bleu", "corpus BLEU of a hypothesis file against references, as sacreBLEU computes it",
       run_bleu},
      {"caption", "caption images (files or folders) with a trained caption model", run_caption},
      {"eval", "evaluate outputs against references: `eval captions` (BLEU-4, CIDEr-D)", run_eval},
      {"train", "train a translation or caption model from a recipe", run_train},
      {"translate", "translate text with a trained model, one output line per input line",
       run_translate},
      {"reply", "suggest replies to messages from a fixed response set (smart reply), in batch",
       run_reply},
      {"reply-data",
       "smart-reply data: e-mail -> (message, reply) pairs, response sets, frequency baseline",
       run_reply_data},
      {"serve", "HTTP service: translate, caption and reply with dynamic batching; a web page",
       run_serve},
      {"score", "forced decoding: log P(target | source) of sentence pairs, total and per piece",
       run_score},
      {"vocab", "train a SentencePiece vocabulary; encode text to pieces or ids and decode back",
       run_vocab},
      {"verify", "check model and checkpoint folders against their checksums", run_verify},
  };
  return table;
}

bool parse_options(const std::string& command, const std::string& synopsis,
                   const po::options_description& options, int argc, char** argv,
                   po::variables_map& values,
                   const po::positional_options_description* positional) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help and exit");
  try {
    po::command_line_parser parser(argc, argv);  // argv[0], the command name, is skipped
    parser.options(all);
    if (positional)
      parser.positional(*positional);
    else
      parser.positional(po::positional_options_description());
    po::store(parser.run(), values);
    if (values.count("help")) {
      std::cout << "usage: s2s " << command << " " << synopsis << "\n\n" << all;
      return false;
    }
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError("s2s " + command + ": " + e.what() + " (see s2s " + command + " --help)");
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> take_overrides(int& argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> overrides;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (arg.rfind("--", 0) == 0 && name.find('.') != std::string::npos) {
      const std::string key = name.substr(2);
      if (eq != std::string::npos) {
        overrides.emplace_back(key, arg.substr(eq + 1));
      } else {
        if (i + 1 >= argc) throw ConfigError("recipe key --" + key + " needs a value");
        overrides.emplace_back(key, argv[++i]);
      }
      continue;
    }
    argv[out++] = argv[i];
  }
  argc = out;
  return overrides;
}

}  // namespace s2s::cli
