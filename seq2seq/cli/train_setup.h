// What every `s2s train` job shares, whatever its task: the run (output folder, resume,
// initialisation), the vocabulary (the recipe's, the initial model's, the run's, or trained now),
// initial and frozen parameters, batching and trainer options from the recipe, and running the
// trainer with resume and clean stops. train.cc (translation) and train_caption.cc use it.
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include "seq2seq/config.h"
#include "seq2seq/data/batcher.h"
#include "seq2seq/layers/parameter.h"
#include "seq2seq/tensor.h"
#include "seq2seq/train/trainer.h"
#include "vocab/trainer.h"

namespace s2s::cli {

struct TrainRun {
  std::string output;     // the run folder
  std::string init_from;  // a model folder to start from, or ""
  bool resume = false;
  Device device = Device::cpu();
};

// The run's vocabulary file (output/vocab.model): copied from --init-from or vocab.model, kept
// when resuming, or trained on inputs. Sets vocab.model in config to the model folder's name.
std::string prepare_vocab(Config& config, const TrainRun& run,
                          const std::vector<TrainingInput>& inputs);
// Loads --init-from's parameters and marks train.freeze's prefixes untrainable.
void prepare_parameters(const Config& config, const TrainRun& run,
                        const std::vector<Parameter*>& params, std::ostream& say = std::cerr);

data::BatcherOptions batcher_options(const Config& config);
TrainerOptions trainer_options(const Config& config, const std::string& output);

// Resumes (--resume: the newest checkpoint that loads), installs the SIGINT/SIGTERM handlers,
// trains, and reports how it ended. Returns the exit code.
// Messages go to say (sync mode: rank 0's stderr, nothing from the others).
int run_trainer(Trainer& trainer, const TrainRun& run, std::ostream& say = std::cerr);

// The caption job (train_caption.cc).
int train_caption(Config& config, const TrainRun& run);

}  // namespace s2s::cli
