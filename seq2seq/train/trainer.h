// Trainer: the training loop of every job (DESIGN.md). Adam with warm-up and decay, global-norm
// clipping, label smoothing and dropout; validation every N steps (perplexity, and BLEU through a
// hook); early stopping with patience; the best model kept as a model folder and the last N
// checkpoints for exact resume; SIGINT/SIGTERM save a checkpoint and stop cleanly. The trainer
// sees the model through the Encoder and Decoder interfaces only.
//
// Scale-out (docs/scale-out.md): gradient accumulation over several batches per update;
// synchronous data parallelism through a Communicator (one process per rank, gradients summed in
// buckets, rank 0 alone validates, logs and saves); asynchronous Downpour training with replica
// threads around a ParameterStore.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "seq2seq/checkpoint.h"
#include "seq2seq/data/batcher.h"
#include "seq2seq/model/decoder.h"
#include "seq2seq/model/encoder.h"
#include "seq2seq/optimizer.h"
#include "seq2seq/train/communicator.h"
#include "seq2seq/train/lr_schedule.h"
#include "seq2seq/train/parameter_store.h"

namespace s2s {

class Progress;

// Where the training time went, in seconds (the log lines and scripts/bench-scaleout.sh print it).
struct StepTimes {
  double data = 0;     // reading and batching
  double compute = 0;  // forward and backward
  double wait = 0;     // the per-step header: waiting for the slowest rank (load imbalance)
  double reduce = 0;   // waiting for gradient sums not hidden behind backward
  double update = 0;   // clipping and the optimizer
  double total() const { return data + compute + wait + reduce + update; }
};

enum class ParallelMode { none, sync, async };
ParallelMode parse_parallel_mode(const std::string& name);  // none | sync | async; else ConfigError

struct ParallelOptions {
  ParallelMode mode = ParallelMode::none;  // sync needs set_communicator, async add_replica
  // Batches each rank (or the one process) sums per update: gradient accumulation. An update
  // then sees ranks * accumulate batches; batch j of an update goes to rank j % ranks. Default 1.
  int accumulate = 1;
  StalenessOptions staleness;  // async only
  double bucket_mb = 4;        // sync: gradient bytes per all-reduce bucket, in MiB
  // sync: seconds a rank waits for the others before the job ends with an error naming the
  // missing rank; the step after a validation (run by rank 0 alone) waits ten times as long.
  double timeout = 300;
  // Model parallelism (docs/scale-out.md): the model split into `stages` consecutive stages, one
  // rank each, in sync mode; with 2, the encoder on rank 0 and the decoder with its output layer
  // on rank 1; with 3, the output layer on a rank of its own (rank 2); with 4, also the
  // encoder's upper layers apart from its first (encoder.layers 2 or more). More ranks (a multiple
  // of stages) are replicas of the pipeline: rank r is stage r % stages of replica r / stages, the
  // data is shared out by replica and each stage's replicas sum their gradients (data parallelism
  // per stage). Only the memory (and the decoder's dropout position) goes down and its gradient up;
  // parameters and gradients stay with their stage. Each batch is cut into micro_batches
  // (data::split_batch, as train.workers cuts shards, with the same keyed dropout streams) that
  // flow through the stages GPipe's way: every forward, then every backward, the encoder
  // recomputing a micro-batch's forward for its backward. Rank 0 gathers the decoder's weights and
  // optimizer state when it validates or saves, so checkpoints and model folders are the ordinary,
  // unsplit ones. 1: no split.
  int stages = 1;
  int micro_batches = 1;
};

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
  // Weight averaging (Marian's exponential smoothing, OpenNMT's average_decay): an exponential
  // moving average of the parameters, ema = d * ema + (1 - d) * weights after every update, with
  // d = min(ema_decay, (1 + t) / (10 + t)) at update t so early weights fade fast. Validation
  // runs on the average and the model folder holds it; checkpoints keep both (exact resume).
  // 0: off. Not with async replicas.
  double ema_decay = 0;
  // In-process data parallelism of one update: each batch is cut into this many shards of
  // sentences balanced by target tokens (data::split_batch), run forward and backward at once on
  // worker threads, each on a model copy (add_worker) that shares the model's weights, and the
  // shards' gradients are summed in shard order before the one update: the math of the whole
  // batch up to float summation order, with dropout masks drawn per shard (keyed by the batch
  // and the shard, so a resumed run draws the same). 1: the whole batch on the calling thread.
  // Modes none and sync.
  int workers = 1;
  uint64_t seed = 1;         // dropout stream (data order has its own seed)
  std::string output_dir;    // model/ (best), checkpoints/step-N; required
  ParallelOptions parallel;  // none: one process, one model
};

// The options' own mistakes (a range, a combination), each a ConfigError naming its key; the
// constructor calls it, and a caller may call it first, before it writes anything.
void check_trainer_options(const TrainerOptions& options);

// One log record of a run: what a log line says, as numbers a caller can plot or store. Every
// line the trainer logs is one record (kind message for the rest: resumed, run summaries).
struct TrainLogRecord {
  enum class Kind { progress, validation, checkpoint, message };
  Kind kind = Kind::message;
  int64_t step = 0;
  int64_t epoch = 0;             // 1-based, the epoch the step is in
  double elapsed_seconds = 0;    // since run() started
  double loss = 0;               // progress: smoothed loss per target token over the interval
  double perplexity = 0;         // progress: of the unsmoothed loss; validation: dev perplexity
  double tokens_per_second = 0;  // progress: target tokens per second over the interval
  double learning_rate = 0;      // progress
  double nll = 0;                // validation: dev negative log-likelihood per token
  std::string score_name;        // validation: "bleu", "cider", or "" (perplexity only)
  double score = 0;              // validation: the hooks' score when score_name is set
  bool improved = false;         // validation: a new best model was saved
  std::string checkpoint;        // checkpoint: its folder
  std::string text;              // the log line as printed
};
const char* log_record_kind_name(TrainLogRecord::Kind kind);  // "progress", "validation", ...

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
  // Every log record as it is logged (rank 0 only), besides the line.
  std::function<void(const TrainLogRecord&)> on_record;
  // Polled between steps: true stops the run cleanly with a checkpoint, as SIGINT does.
  std::function<bool()> should_stop;
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
  ~Trainer();

  // Continues the run saved in a checkpoint folder: parameters, optimizer moments, step, epoch,
  // data position, RNG, schedule and early-stopping state. The folder is verified against its
  // manifest first: a damaged file is an IntegrityError naming it, and nothing is changed.
  // Throws InputError naming the folder if the checkpoint does not fit this model.
  void resume(const std::string& checkpoint_folder);
  // The newest complete checkpoint under output_dir, or "".
  std::string latest_checkpoint() const;

  // Sync mode: the ranks' communicator (lives longer than the trainer). Call before resume/run.
  void set_communicator(Communicator* comm);
  // Async mode: one more replica, a model copy with the same parameter names in the same order
  // (built like the trained model); run() starts one thread per replica. Call before resume/run.
  void add_replica(Encoder& encoder, Decoder& decoder);
  // workers > 1: one more worker's model copy (built like the trained model; its weights are
  // replaced by the model's). options.workers - 1 of them. Call before resume/run.
  void add_worker(Encoder& encoder, Decoder& decoder);

  TrainingSummary run();

  // Validation loss over the dev set: {nll per token, perplexity}.
  std::pair<double, double> validation_loss();
  int64_t step() const { return step_; }

 private:
  struct Replica;
  struct Worker;
  struct BatchLoss {
    double loss = 0, nll = 0, tokens = 0;
  };
  // Forward and backward of one batch on a model, its gradients added to the model's.
  BatchLoss forward_backward(Encoder& encoder, Decoder& decoder, const data::Batch& batch,
                             const ops::XentOptions& xent, Rng* rng);
  // train_step's computation with workers: every batch's shards at once, gradients summed.
  BatchLoss sharded_forward_backward(const ops::XentOptions& xent);
  // train_step's computation of this rank's pipeline stage over every batch's micro-batches.
  BatchLoss pipeline_forward_backward(const ops::XentOptions& xent);
  // Pipeline: rank 0 takes the decoder's weights and optimizer state from the last stage (every
  // rank calls it at the same step).
  void gather_stages();
  // With 4 stages, the encoder's first layer's part and its upper layers' part.
  void encoder_bottom_step(const std::vector<data::Batch>& micro, const Rng& batch_rng);
  void encoder_upper_step(const std::vector<data::Batch>& micro, const Rng& batch_rng);
  // Stage 2 of 3's part of pipeline_forward_backward (the decoder without its output layer).
  void decoder_core_step(const std::vector<data::Batch>& micro, const Rng& batch_rng);
  // Pipeline transfers of micro-batch k: a memory (or its gradient: the same shapes) to rank
  // `to`, and a memory with the dropout stream's position from rank `from`.
  void send_memory(const Tensor& vectors, const Tensor& summary, int to, size_t k);
  Memory receive_memory(const data::Batch& micro, int from, size_t k, uint64_t& position);
  MemoryGradient receive_memory_gradient(const data::Batch& micro, int from, size_t k);
  // The dropout stream's position after a stage (tag 3k + 2): the next stage goes on from there.
  void send_position(uint64_t position, int to, size_t k);
  uint64_t receive_position(int from, size_t k, const std::string& what);
  // The parameters a pipeline stage owns (0: the encoder; then the decoder, or with 3 stages its
  // core and its output layer).
  std::vector<Parameter*> stage_parameters(int stage);
  bool pipelined() const { return options_.parallel.stages > 1; }
  int replicas() const { return comm_ ? comm_->size() / options_.parallel.stages : 1; }
  // The model's parameters with the given names' order checked against a copy's (replica or
  // worker); names the first that differs.
  std::vector<Parameter*> matching_parameters(Encoder& encoder, Decoder& decoder) const;
  // Reads this rank's batches of the next update into batches_; false at the last epoch's end.
  bool read_step(StopReason& reason);
  void train_step(double global_tokens, GradientReducer* reducer);
  bool is_root() const { return !comm_ || comm_->rank() == 0; }
  void run_sync(TrainingSummary& summary, Progress& progress);
  void run_async(TrainingSummary& summary, Progress& progress);
  void replica_loop(Replica& replica);
  std::vector<std::pair<std::string, Tensor>> optimizer_state();
  void log_interval(Progress& progress, std::chrono::steady_clock::time_point& interval_start);
  ParameterStore& store();
  bool validate();  // true when the metric improved
  void update_ema();
  void exchange_ema();  // swaps the parameters' values with the average (self-inverse)
  struct EmaWeights;    // the average in the parameters for a scope
  void save_checkpoint();
  void save_best();
  std::string state_yaml() const;
  Tensor as_model_dtype(const Tensor& mask) const;
  void log(const std::string& line) const;
  void log(TrainLogRecord record) const;  // record.text is the line
  bool stop_asked() const;                // a signal, or hooks.should_stop

  Progress* progress_ = nullptr;  // the live progress line while run() is running
  Encoder& encoder_;
  Decoder& decoder_;
  data::Batcher& train_;
  std::vector<data::Batch> valid_;
  TrainerOptions options_;
  TrainerHooks hooks_;
  std::vector<Parameter*> params_;
  std::vector<Parameter*> encoder_params_, decoder_params_;  // params_ is these two, in order
  std::vector<Tensor> ema_;  // the averaged weights, per params_ entry; empty when off
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

  // Scale-out.
  Communicator* comm_ = nullptr;
  std::vector<data::Batch> batches_;    // this rank's batches of the current update
  std::vector<int64_t> batch_serials_;  // their (epoch, index) keys: per-batch dropout streams
  data::Batcher::State data_state_;     // where the data stood before the current update
  int64_t data_epoch_ = 0;              // epoch_ then (a checkpoint saves these two)
  int64_t last_validated_ = -1, last_saved_ = -1;
  bool early_stop_pending_ = false;   // rank 0 decided; the next header tells every rank
  bool validated_last_step_ = false;  // rank 0 validated or saved: the next header waits longer
  bool described_reduce_ = false;     // the all-reduce volume is logged once
  StepTimes interval_times_, total_times_;  // since the last log line; over the run
  // Pipeline, this rank's stage over the run: computing, waiting for the other stage's tensors,
  // waiting for its own sends to be taken; bytes sent.
  double stage_compute_ = 0, stage_wait_ = 0, stage_send_ = 0, stage_bytes_ = 0;
  // Pipeline with replicas: this stage's ranks, and the sum of their gradients.
  std::unique_ptr<Communicator> stage_group_;
  std::unique_ptr<GradientReducer> stage_reducer_;
  // Async: the replicas, the store, and what the replica threads share (data_mutex_: train_ and
  // epoch_; stats_mutex_: the interval sums; schedule_mutex_: schedule_).
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<std::unique_ptr<Worker>> workers_;  // workers 1.. (worker 0 is this thread)
  std::unique_ptr<ParameterStore> store_;
  std::mutex data_mutex_, stats_mutex_, schedule_mutex_;
  std::atomic<bool> async_stop_{false};
  std::atomic<int> async_stop_reason_{-1};  // a StopReason, -1 while none
  std::exception_ptr replica_error_;        // the first replica's exception, rethrown by run()
  StalenessCounters interval_staleness_;
};

}  // namespace s2s
