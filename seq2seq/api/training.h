// Training: one call runs a whole `s2s train` job — translation or captioning, one process,
// MPI-synchronous ranks or async replicas — from a resolved recipe (recipe.h).
//
//   s2s::api::Config recipe = s2s::api::load_training_recipe("recipes/de-en/tiny.yaml",
//                                                           {{"train.max_steps", "200"}});
//   s2s::api::TrainCallbacks callbacks;
//   callbacks.on_log = [](const s2s::TrainLogRecord& r) { std::cout << r.text << "\n"; };
//   s2s::api::TrainSummary summary = s2s::api::train(recipe, {.output = "runs/x"}, callbacks);
//
// The run folder gets the vocabulary, model/ (the best model, a model folder every front end
// loads) and checkpoints/ (the last train.keep_checkpoints, for an exact --resume). A stop asked
// through callbacks.should_stop (or SIGINT/SIGTERM, where the caller installed the handlers of
// seq2seq/stop_signal.h) ends the run cleanly with a checkpoint.
#pragma once

#include <functional>
#include <string>

#include "seq2seq/config.h"
#include "seq2seq/train/trainer.h"  // TrainLogRecord, TrainingSummary, StopReason

namespace s2s::api {

struct TrainRun {
  std::string output;     // the run folder; required
  bool resume = false;    // continue the run saved in output (the newest checkpoint that loads)
  std::string init_from;  // a model folder to start from (fine-tuning), with its vocabulary
};

struct TrainCallbacks {
  // Every log record of rank 0 (progress every train.log_every steps, validations, checkpoints,
  // messages). nullptr: the lines go to stderr with a progress line.
  std::function<void(const TrainLogRecord&)> on_log;
  // Messages about the run itself (vocabulary trained, resumed, parallel setup); default stderr.
  std::function<void(const std::string&)> on_message;
  // Polled between steps; true stops the run cleanly (checkpoint written), reason interrupted.
  std::function<bool()> should_stop;
};

struct TrainSummary : TrainingSummary {
  bool root = true;  // false on the MPI ranks other than 0, which write nothing
};

// Trains the recipe's task into run.output. Everything is checked before anything is written:
// ConfigError naming the key for a bad value, a run folder that already holds a run (without
// resume), a resume without a checkpoint. In sync mode (mpirun) an error on one rank ends every
// rank with its message.
TrainSummary train(Config recipe, const TrainRun& run, const TrainCallbacks& callbacks = {});

}  // namespace s2s::api
