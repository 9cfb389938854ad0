// What every training job shares, whatever its task (internal to api/; training.h is the
// interface): the run (output folder, resume, initialisation), the vocabulary (the recipe's, the
// initial model's, the run's, or trained now), initial and frozen parameters, and running the
// trainer with resume and clean stops. training.cc (translation) and train_caption.cc use it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "seq2seq/api/training.h"
#include "seq2seq/config.h"
#include "seq2seq/layers/parameter.h"
#include "seq2seq/tensor.h"
#include "seq2seq/train/trainer.h"
#include "vocab/trainer.h"

namespace s2s::api {

using Say = std::function<void(const std::string&)>;

// A run as the jobs see it: the caller's request, the device, and where messages go.
struct RunContext {
  TrainRun run;
  Device device = Device::cpu();
  Say say;  // rank 0's messages (the other ranks' go nowhere)
  const TrainCallbacks* callbacks = nullptr;
};

// The run's vocabulary file (output/vocab.model): copied from init_from or vocab.model, kept
// when resuming, or trained on inputs. Sets vocab.model in config to the model folder's name.
std::string prepare_vocab(Config& config, const RunContext& context,
                          const std::vector<TrainingInput>& inputs);
// Loads init_from's parameters and marks train.freeze's prefixes untrainable.
void prepare_parameters(const Config& config, const RunContext& context,
                        const std::vector<Parameter*>& params);

// The callbacks' parts of the trainer's hooks (log records, stop requests), and the run log
// (RUN/log.jsonl, run_log.h) every run writes. task: translate or caption.
void connect_callbacks(TrainerHooks& hooks, const RunContext& context, const std::string& task);

// Resumes (the newest checkpoint that loads), trains, and reports how it ended.
TrainingSummary run_trainer(Trainer& trainer, const RunContext& context);

// The caption job (train_caption.cc).
TrainingSummary train_caption(Config& config, const RunContext& context);

}  // namespace s2s::api
