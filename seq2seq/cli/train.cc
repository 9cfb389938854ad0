// `s2s train --recipe FILE --output DIR`: trains a model of the recipe's task (translation or
// captioning) through api::train — the vocabulary (unless the recipe names one), then the
// encoder-decoder, writing the best model to DIR/model and checkpoints to DIR/checkpoints.
// --resume continues an interrupted run exactly; --init-from starts from a trained model
// (fine-tuning). SIGINT/SIGTERM stop it cleanly with a checkpoint.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "seq2seq/api/recipe.h"
#include "seq2seq/api/training.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/profiler.h"
#include "seq2seq/stop_signal.h"

namespace po = boost::program_options;

namespace s2s::cli {
namespace {

// `--profile`: turns the op profiler on for the run and prints its table when the run ends.
class ProfileReport {
 public:
  explicit ProfileReport(bool on) : on_(on) { profile::enable(on); }
  ~ProfileReport() {
    if (!on_) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::fprintf(stderr, "train: profile of %.1f s\n%s", seconds, profile::report(seconds).c_str());
  }
  ProfileReport(const ProfileReport&) = delete;
  ProfileReport& operator=(const ProfileReport&) = delete;

 private:
  bool on_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace

int run_train(int argc, char** argv) {
  api::Overrides overrides = take_overrides(argc, argv);
  po::options_description options("Options");
  api::TrainRun run;
  std::string recipe;
  options.add_options()("recipe,r", po::value(&recipe),
                        "the recipe (YAML); keys can be overridden "
                        "as --group.key VALUE, e.g. --train.max_steps 500")(
      "output,o", po::value(&run.output), "output folder: model/ (the best model), checkpoints/")(
      "resume", po::bool_switch(&run.resume), "continue the run saved in the output folder")(
      "init-from", po::value(&run.init_from), "start from this trained model (and its vocabulary)")(
      "dump-config", po::bool_switch(), "print the effective recipe and exit")(
      "profile", po::bool_switch(), "print where the training time went, by op, at the end");
  po::variables_map values;
  if (!parse_options("train", "--recipe FILE --output DIR [--group.key VALUE...] [OPTIONS]",
                     options, argc, argv, values))
    return 0;
  const Config config = api::load_training_recipe(recipe, overrides);
  const ProfileReport profile_report(values["profile"].as<bool>());
  if (values["dump-config"].as<bool>()) {
    std::cout << config.to_yaml();
    return 0;
  }
  if (run.output.empty()) throw UsageError("s2s train: --output DIR is required");
  install_stop_handlers();
  api::TrainCallbacks callbacks;
  callbacks.should_stop = stop_requested;
  const api::TrainSummary summary = api::train(config, run, callbacks);
  if (summary.root) {
    std::cerr << "s2s train: " << summary.steps << " steps, " << stop_reason_name(summary.reason);
    if (!summary.best_model.empty()) std::cerr << "; model in " << summary.best_model;
    std::cerr << "\n";
  }
  return 0;
}

}  // namespace s2s::cli
