// Trainer: the training loop of every job (DESIGN.md). Adam with warm-up and decay, global-norm
// clipping, label smoothing and dropout; validation every N steps (perplexity, and BLEU through a
// hook); early stopping with patience; the best model kept as a model folder and the last N
// checkpoints for exact resume; SIGINT/SIGTERM save a checkpoint and stop cleanly. The trainer
// sees the model through the Encoder and Decoder interfaces only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "seq2seq/checkpoint.h"
#include "seq2seq/data/batcher.h"
#include "seq2seq/model/decoder.h"
#include "seq2seq/model/encoder.h"
#include "seq2seq/optimizer.h"
#include "seq2seq/train/lr_schedule.h"

namespace s2s {

class Progress;

struct TrainerOptions {
  OptimizerOptions optimizer;    // Adam by default
  ScheduleOptions schedule;      // learning rate, warm-up, decay
  double clip_norm = 5.0;        // global gradient norm limit; 0: no clipping
  double label_smoothing = 0.1;  // eps of the smoothed cross-entropy
  int64_t max_steps = 0;         // stop after this many updates; 0: no limit
  int64_t max_epochs = 0;        // stop after this many passes over the data; 0: no limit
  double max_minutes = 0;        // stop after this much wall-clock training time; 0: no limit
  int64_t log_every = 100;       // a log line every N steps
  int64_t valid_every = 1000;    // validate every N steps (and at the end); 0: never
  int64_t save_every = 0;        // checkpoint every N steps; 0: at every validation
  int patience = 5;              // stop after N validations without improvement; 0: never
  // "perplexity", or the name of the hooks' validation score ("bleu", "cider"): what decides the
  // best model, early stopping and the plateau schedule.
  std::string valid_metric = "perplexity";
  int keep_checkpoints = 3;  // last N checkpoints kept
  uint64_t seed = 1;         // dropout stream (data order has its own seed)
  std::string output_dir;    // model/ (best), checkpoints/step-N; required
};

// What the trainer cannot know by itself.
struct TrainerHooks {
  // BLEU of the model on the dev set (decode and score), or empty: perplexity only.
  // A score of the model on the dev set, higher is better (BLEU of translations, CIDEr-D of
  // captions), named validation_score_name in logs and in valid_metric; or empty: perplexity only.
  std::function<double()> validation_score;
  std::string validation_score_name = "bleu";
  // The encoder input of a batch when it is not batch.source (captions: the pixels of the images
  // whose indices batch.source holds); the encoder then gets no source mask. step: the update
  // the batch is for (augmentation streams derive from it, so a resumed run sees the same);
  // training: false for validation.
  std::function<Tensor(const data::Batch& batch, int64_t step, bool training)> load_source;
  // The files of a model folder besides the parameters: the resolved recipe and the vocabulary.
  std::string config_yaml;
  std::vector<std::pair<std::string, std::string>> model_files;  // (name in folder, source path)
  // Where log lines go (default: stderr through Progress).
  std::function<void(const std::string&)> log;
};

enum class StopReason { max_steps, max_epochs, max_minutes, early_stopping, interrupted };
const char* stop_reason_name(StopReason reason);

struct TrainingSummary {
  StopReason reason = StopReason::max_steps;
  int64_t steps = 0;
  int64_t epochs_completed = 0;
  double best_metric = 0;  // of valid_metric; 0 if never validated
  double last_loss = 0;    // mean smoothed loss per target token over the last log interval
  std::string best_model;  // folder of the best model ("" if never validated)
};

class Trainer {
 public:
  // valid: the dev set, batched in order once (may be empty: no validation).
  Trainer(Encoder& encoder, Decoder& decoder, data::Batcher& train, std::vector<data::Batch> valid,
          TrainerOptions options, TrainerHooks hooks);

  // Continues the run saved in a checkpoint folder: parameters, optimizer moments, step, epoch,
  // data position, RNG, schedule and early-stopping state. Throws InputError naming the folder
  // if the checkpoint does not fit this model.
  void resume(const std::string& checkpoint_folder);
  // The newest complete checkpoint under output_dir, or "".
  std::string latest_checkpoint() const;

  TrainingSummary run();

  // Validation loss over the dev set: {nll per token, perplexity}.
  std::pair<double, double> validation_loss();
  int64_t step() const { return step_; }

 private:
  void train_step(const data::Batch& batch);
  bool validate();  // true when the metric improved
  void save_checkpoint();
  void save_best();
  std::string state_yaml() const;
  Tensor as_model_dtype(const Tensor& mask) const;
  void log(const std::string& line) const;

  Progress* progress_ = nullptr;  // the live progress line while run() is running
  Encoder& encoder_;
  Decoder& decoder_;
  data::Batcher& train_;
  std::vector<data::Batch> valid_;
  TrainerOptions options_;
  TrainerHooks hooks_;
  std::vector<Parameter*> params_;
  Optimizer optimizer_;
  LearningRateSchedule schedule_;
  CheckpointStore checkpoints_;
  Rng rng_;
  DType dtype_;
  Device device_;

  int64_t step_ = 0;
  int64_t epoch_ = 0;
  bool have_best_ = false;
  double best_metric_ = 0;
  int stalled_ = 0;
  // Since the last log line.
  double interval_loss_ = 0, interval_tokens_ = 0, interval_nll_ = 0;
  double last_loss_ = 0;
};

}  // namespace s2s
