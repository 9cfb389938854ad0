// The training loop.
#include "seq2seq/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <thread>

#include "seq2seq/config.h"
#include "seq2seq/host_allocator.h"
#include "seq2seq/manifest.h"
#include "seq2seq/ops/elementwise.h"
#include "seq2seq/ops/grad_norm.h"
#include "seq2seq/progress.h"
#include "seq2seq/stop_signal.h"

namespace s2s {
namespace fs = std::filesystem;

namespace {

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

std::vector<Parameter*> all_parameters(Encoder& encoder, Decoder& decoder) {
  std::vector<Parameter*> params = encoder.parameters();
  for (Parameter* p : decoder.parameters())
    params.push_back(p);
  std::set<std::string> names;
  for (Parameter* p : params)
    S2S_CHECK(names.insert(p->name).second, "two parameters are named '", p->name, "'");
  S2S_CHECK(!params.empty(), "the model has no parameters");
  return params;
}

}  // namespace

ParallelMode parse_parallel_mode(const std::string& name) {
  if (name == "none") return ParallelMode::none;
  if (name == "sync") return ParallelMode::sync;
  if (name == "async") return ParallelMode::async;
  throw ConfigError("train.parallel.mode must be none, sync or async, got '" + name + "'");
}

struct Trainer::Replica {
  Encoder& encoder;
  Decoder& decoder;
  std::vector<Parameter*> params;
  Rng rng;  // dropout
  std::thread thread;
};

struct Trainer::Worker {
  Encoder& encoder;
  Decoder& decoder;
  std::vector<Parameter*> params;  // in the order of params_
};

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::max_steps:
      return "reached train.max_steps";
    case StopReason::max_epochs:
      return "reached train.max_epochs";
    case StopReason::max_minutes:
      return "reached train.max_minutes";
    case StopReason::early_stopping:
      return "early stopping (no improvement within patience)";
    case StopReason::interrupted:
      return "interrupted by a signal";
  }
  return "?";
}

void check_trainer_options(const TrainerOptions& options) {
  S2S_CHECK_AS(ConfigError, !options.output_dir.empty(), "train: an output folder is required");
  S2S_CHECK_AS(ConfigError,
               options.max_steps > 0 || options.max_epochs > 0 || options.max_minutes > 0,
               "train: set train.max_steps, train.max_epochs or train.max_minutes (all are 0: it "
               "would never stop)");
  S2S_CHECK_AS(ConfigError, options.parallel.accumulate >= 1,
               "train.parallel.accumulate must be at least 1, got ", options.parallel.accumulate);
  S2S_CHECK_AS(ConfigError,
               options.parallel.mode != ParallelMode::async || options.parallel.accumulate == 1,
               "train.parallel.accumulate applies to modes none and sync, not async");
  S2S_CHECK_AS(ConfigError, options.parallel.timeout > 0,
               "train.parallel.timeout must be positive, got ", options.parallel.timeout);
  S2S_CHECK_AS(ConfigError, options.workers >= 1 && options.workers <= 64,
               "train.workers must be 0 (one a math thread) or 1 to 64, got ", options.workers);
  S2S_CHECK_AS(ConfigError, options.workers == 1 || options.parallel.mode != ParallelMode::async,
               "train.workers splits one update's batches; async replicas have no one update: "
               "use train.parallel.replicas");
  S2S_CHECK_AS(ConfigError, options.ema_decay >= 0 && options.ema_decay < 1,
               "train.ema_decay must be in [0, 1), got ", options.ema_decay);
  S2S_CHECK_AS(ConfigError, options.ema_decay == 0 || options.parallel.mode != ParallelMode::async,
               "train.ema_decay averages one model's weights; async replicas have no one model: "
               "use mode none or sync");
  S2S_CHECK_AS(ConfigError, options.parallel.stages >= 1 && options.parallel.stages <= 4,
               "train.parallel.model.stages must be 1, 2 (encoder | decoder), 3 (encoder | "
               "decoder | output layer) or 4 (encoder's first layer | its upper layers | decoder "
               "| output layer), got ",
               options.parallel.stages);
  S2S_CHECK_AS(ConfigError, options.parallel.micro_batches >= 1,
               "train.parallel.model.micro_batches must be at least 1, got ",
               options.parallel.micro_batches);
  if (options.parallel.stages > 1) {
    S2S_CHECK_AS(ConfigError, options.parallel.mode == ParallelMode::sync,
                 "train.parallel.model.stages needs train.parallel.mode sync (one rank a stage)");
    S2S_CHECK_AS(ConfigError, options.workers == 1,
                 "train.parallel.model.stages cuts batches into micro-batches itself: set "
                 "train.workers 1");
    S2S_CHECK_AS(ConfigError, options.ema_decay == 0,
                 "train.parallel.model.stages: train.ema_decay is not supported yet (set 0)");
  }
}

Trainer::Trainer(Encoder& encoder, Decoder& decoder, data::Batcher& train,
                 std::vector<data::Batch> valid, TrainerOptions options, TrainerHooks hooks)
    : encoder_(encoder),
      decoder_(decoder),
      train_(train),
      valid_(std::move(valid)),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      params_(all_parameters(encoder, decoder)),
      optimizer_(options_.optimizer),
      schedule_(options_.schedule),
      checkpoints_((fs::path(options_.output_dir) / "checkpoints").string(),
                   options_.keep_checkpoints),
      rng_(options_.seed),
      dtype_(params_.front()->value.dtype()),
      device_(params_.front()->value.device()) {
  check_trainer_options(options_);
  S2S_CHECK_AS(ConfigError,
               options_.valid_metric == "perplexity" ||
                   options_.valid_metric == hooks_.validation_score_name,
               "train.valid_metric must be perplexity or ", hooks_.validation_score_name, ", got '",
               options_.valid_metric, "'");
  S2S_CHECK_AS(ConfigError, options_.valid_metric == "perplexity" || hooks_.validation_score,
               "train.valid_metric is ", options_.valid_metric, " but no dev set can be decoded");
  encoder_params_ = encoder.parameters();
  decoder_params_ = decoder.parameters();
  if (options_.ema_decay > 0)
    for (Parameter* p : params_)
      ema_.push_back(p->value.clone());  // restarted from the weights when run() starts anew
}

// The average in the parameters while it lives: what validation measures and the model folder
// holds. Restores the trained weights on every exit, an exception's too.
struct Trainer::EmaWeights {
  explicit EmaWeights(Trainer& t) : trainer(t) {
    if (!trainer.ema_.empty()) trainer.exchange_ema();
  }
  ~EmaWeights() {
    if (!trainer.ema_.empty()) trainer.exchange_ema();
  }
  EmaWeights(const EmaWeights&) = delete;
  EmaWeights& operator=(const EmaWeights&) = delete;
  Trainer& trainer;
};

void Trainer::exchange_ema() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor weights = params_[i]->value.clone();
    params_[i]->value.copy_from(ema_[i]);
    ema_[i].copy_from(weights);
  }
}

void Trainer::update_ema() {
  if (ema_.empty()) return;
  const double t = static_cast<double>(optimizer_.steps_taken());
  const double d = std::min(options_.ema_decay, (1 + t) / (10 + t));
  for (size_t i = 0; i < params_.size(); ++i) {
    ops::scale(ema_[i], d);
    ops::axpy(1 - d, params_[i]->value, ema_[i]);
  }
}

Trainer::~Trainer() {
  async_stop_ = true;  // run() joins its threads; this is for a run() that never started them
  for (auto& r : replicas_)
    if (r->thread.joinable()) r->thread.join();
}

void Trainer::set_communicator(Communicator* comm) {
  S2S_CHECK(options_.parallel.mode == ParallelMode::sync,
            "Trainer: a communicator is for train.parallel.mode sync");
  S2S_CHECK_AS(ConfigError, !pipelined() || comm->size() % options_.parallel.stages == 0,
               "train.parallel.model.stages ", options_.parallel.stages,
               " needs a multiple of that many ranks (one a stage, per replica), got ",
               comm->size());
  S2S_CHECK_AS(ConfigError, !pipelined() || !hooks_.load_source,
               "train.parallel.model.stages: token encoders only for now");
  comm_ = comm;
  if (pipelined() && replicas() > 1) {
    // Rank r is stage r % stages of replica r / stages; a stage's replicas form a group.
    stage_group_ = comm_->split(comm_->rank() % options_.parallel.stages);
    stage_reducer_ = std::make_unique<GradientReducer>(
        *stage_group_, static_cast<int64_t>(options_.parallel.bucket_mb * (1 << 20)));
  }
}

std::vector<Parameter*> Trainer::matching_parameters(Encoder& encoder, Decoder& decoder) const {
  std::vector<Parameter*> params = all_parameters(encoder, decoder);
  S2S_CHECK(params.size() == params_.size(), "Trainer: the model copy has ", params.size(),
            " parameters, the model ", params_.size());
  for (size_t i = 0; i < params.size(); ++i) {
    S2S_CHECK(params[i]->name == params_[i]->name &&
                  params[i]->value.shape() == params_[i]->value.shape(),
              "Trainer: the copy's parameter ", i, " is '", params[i]->name, "' ",
              params[i]->value.str(), ", the model's '", params_[i]->name, "' ",
              params_[i]->value.str());
    params[i]->trainable = params_[i]->trainable;
  }
  return params;
}

void Trainer::add_worker(Encoder& encoder, Decoder& decoder) {
  S2S_CHECK(static_cast<int>(workers_.size()) + 1 < options_.workers, "Trainer: train.workers is ",
            options_.workers, ": at most ", options_.workers - 1, " worker copies");
  S2S_CHECK(!hooks_.load_source, "Trainer: workers train translation models only");
  workers_.push_back(
      std::unique_ptr<Worker>(new Worker{encoder, decoder, matching_parameters(encoder, decoder)}));
}

void Trainer::add_replica(Encoder& encoder, Decoder& decoder) {
  S2S_CHECK(options_.parallel.mode == ParallelMode::async,
            "Trainer: replicas are for train.parallel.mode async");
  S2S_CHECK(!store_, "Trainer: add replicas before resume() and run()");
  std::vector<Parameter*> params = matching_parameters(encoder, decoder);
  const uint64_t index = replicas_.size();
  replicas_.push_back(std::unique_ptr<Replica>(new Replica{
      encoder, decoder, std::move(params), Rng(options_.seed).split(1000 + index), {}}));
}

ParameterStore& Trainer::store() {
  if (!store_)
    store_ =
        std::make_unique<ParameterStore>(params_, options_.optimizer, options_.parallel.staleness);
  return *store_;
}

std::vector<std::pair<std::string, Tensor>> Trainer::optimizer_state() {
  std::vector<std::pair<std::string, Tensor>> state =
      store_ || options_.parallel.mode == ParallelMode::async ? store().optimizer_state()
                                                              : optimizer_.state(params_);
  for (size_t i = 0; i < ema_.size(); ++i)
    state.emplace_back("ema." + params_[i]->name, ema_[i]);
  return state;
}

const char* log_record_kind_name(TrainLogRecord::Kind kind) {
  switch (kind) {
    case TrainLogRecord::Kind::progress:
      return "progress";
    case TrainLogRecord::Kind::validation:
      return "validation";
    case TrainLogRecord::Kind::checkpoint:
      return "checkpoint";
    case TrainLogRecord::Kind::message:
      break;
  }
  return "message";
}

void Trainer::log(const std::string& line) const {
  TrainLogRecord record;
  record.text = line;
  log(std::move(record));
}

void Trainer::log(TrainLogRecord record) const {
  if (!is_root()) return;  // rank 0 speaks for every rank
  const std::string& line = record.text;
  if (hooks_.log)
    hooks_.log(line);
  else if (progress_)
    progress_->log(line);
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  if (hooks_.on_record) {
    record.step = step_;
    if (record.epoch == 0) record.epoch = epoch_ + 1;
    if (progress_) record.elapsed_seconds = progress_->elapsed_seconds();
    hooks_.on_record(record);
  }
}

bool Trainer::stop_asked() const {
  return stop_requested() || (hooks_.should_stop && hooks_.should_stop());
}

Tensor Trainer::as_model_dtype(const Tensor& mask) const {
  if (mask.dtype() == dtype_ && mask.device() == device_) return mask;
  Tensor converted = Tensor::empty(mask.shape(), dtype_);
  const float* m = mask.data<float>();
  for (int64_t i = 0; i < mask.numel(); ++i) {
    if (dtype_ == DType::f32)
      converted.data<float>()[i] = m[i];
    else
      converted.data<double>()[i] = m[i];
  }
  return converted.device() == device_ ? converted : converted.to(device_);
}

std::string Trainer::latest_checkpoint() const {
  return checkpoints_.latest();
}

bool Trainer::read_step(StopReason& reason) {
  // Pipeline stages are one replica: every stage reads every batch of the update.
  // Pipeline stages of one replica read the same batches: the data is shared out by replica.
  const int ranks = !comm_        ? 1
                    : pipelined() ? replicas()
                                  : comm_->size(),
            rank = !comm_        ? 0
                   : pipelined() ? comm_->rank() / options_.parallel.stages
                                 : comm_->rank();
  const int64_t per_update = static_cast<int64_t>(ranks) * options_.parallel.accumulate;
  batches_.clear();
  batch_serials_.clear();
  int64_t read = 0;
  bool fresh_epoch = false;
  while (read < per_update) {
    // Every rank walks the same batch sequence and keeps batch j of the update when j % ranks is
    // its rank: no overlap, and the data position is the same on every rank and for any N.
    const bool mine = read % ranks == rank;
    const data::Batcher::State at = train_.state();
    data::Batch batch;
    if (!(mine ? train_.next(batch) : train_.skip())) {
      if (read > 0) break;  // the epoch's last update is a short one
      if (fresh_epoch)
        throw InputError("no training batches: the corpus is empty or every line was filtered");
      ++epoch_;
      if (options_.max_epochs > 0 && epoch_ >= options_.max_epochs) {
        reason = StopReason::max_epochs;
        return false;
      }
      train_.start_epoch(epoch_);
      fresh_epoch = true;
      continue;
    }
    if (mine) {
      batches_.push_back(std::move(batch));
      batch_serials_.push_back((at.epoch << 32) + at.batches_in_epoch);
    }
    ++read;
  }
  return true;
}

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point& start) {
  const auto now = Clock::now();
  const double s = std::chrono::duration<double>(now - start).count();
  start = now;
  return s;
}
// Runs work and adds its seconds to total (a pipeline stage's computing or waiting time).
template <class Work>
void timed(double& total, Work&& work) {
  auto start = Clock::now();
  work();
  total += seconds_since(start);
}
}  // namespace

void Trainer::train_step(double global_tokens, GradientReducer* reducer) {
  auto clock = Clock::now();
  encoder_.set_training(true);
  decoder_.set_training(true);
  for (Parameter* p : params_)
    p->grad.zero();
  const auto on_device = [&](const Tensor& t) { return device_.is_cpu() ? t : t.to(device_); };
  ops::XentOptions xent;
  xent.label_smoothing = options_.label_smoothing;
  xent.pad_id = train_.options().ids.pad;
  // The gradient of the mean loss per target token of the whole update (every batch of every
  // rank), without a pass over the logits to scale it: N ranks with batch b then compute the
  // same update as one process with batch N * b.
  xent.grad_scale = 1.0 / std::max(global_tokens, 1.0);
  // One batch per update keeps the trainer's own dropout stream (and its checkpoints); several
  // draw each batch's dropout from a stream keyed by the batch's place in the data, so the masks
  // do not depend on which rank computes the batch.
  const int64_t per_update =
      static_cast<int64_t>(comm_ ? comm_->size() : 1) * options_.parallel.accumulate;
  double loss = 0, nll = 0, tokens = 0;
  if (pipelined()) {
    const BatchLoss sums = pipeline_forward_backward(xent);
    interval_times_.compute += seconds_since(clock);
    // Replicas of a stage sum their stage's gradients (its own parameters only).
    const std::vector<Parameter*> own = stage_parameters(comm_->rank() % options_.parallel.stages);
    if (stage_reducer_) {
      stage_reducer_->start(own);
      stage_reducer_->finish();
    }
    // The loss lives on the last stages; the clipping norm is over every stage's gradients (a
    // stage's summed gradients are on each of its replicas: counted once).
    double squared = 0;
    for (Parameter* p : own)
      if (p->trainable) squared += std::pow(ops::global_norm({p->grad}), 2);
    const std::vector<double> totals =
        comm_->sum_scalars({sums.loss, sums.nll, sums.tokens, squared});
    interval_times_.reduce += seconds_since(clock);
    loss = totals[0], nll = totals[1], tokens = totals[2];
    const double norm = std::sqrt(totals[3] / replicas());
    const double lr = schedule_.rate(step_ + 1);
    ++step_;
    if (!std::isfinite(norm) || !std::isfinite(loss)) {
      log("step " + std::to_string(step_) + ": non-finite loss or gradient norm; update skipped");
      return;
    }
    if (options_.clip_norm > 0 && norm > options_.clip_norm)
      for (Parameter* p : own)  // the other stages' gradients are zero here
        if (p->trainable) ops::scale(p->grad, options_.clip_norm / norm);
    // Only this stage's parameters move, and only they get Adam moments here (the others'
    // state is created, zero, when rank 0 gathers it for a checkpoint).
    optimizer_.step(own, lr);
    interval_times_.update += seconds_since(clock);
    interval_loss_ += loss;
    interval_nll_ += nll;
    interval_tokens_ += tokens;
    return;
  }
  if (!workers_.empty()) {
    const BatchLoss sums = sharded_forward_backward(xent);
    loss = sums.loss, nll = sums.nll, tokens = sums.tokens;
  }
  for (size_t i = 0; workers_.empty() && i < batches_.size(); ++i) {  // one thread, whole batches
    const data::Batch& batch = batches_[i];
    Rng keyed = Rng(options_.seed).split(static_cast<uint64_t>(batch_serials_[i]));
    Rng* rng = per_update == 1 ? &rng_ : &keyed;
    const Memory memory =
        hooks_.load_source
            ? encoder_.encode(on_device(hooks_.load_source(batch, step_ + 1, true)), Tensor(), rng)
            : encoder_.encode(on_device(batch.source), as_model_dtype(batch.source_mask), rng);
    Decoder::TrainResult result = decoder_.forward_backward(
        memory, on_device(batch.target_input), on_device(batch.target_output), xent, rng);
    // The decoder's gradients are final: their sums travel while the encoder's backward runs.
    if (reducer && i + 1 == batches_.size()) reducer->start(decoder_params_);
    encoder_.backward(result.d_memory);
    loss += result.loss.loss;
    nll += result.loss.nll;
    tokens += result.loss.tokens;
  }
  if (reducer) {
    // A rank with no batch sends zeros; with workers the sums are complete only now.
    if (batches_.empty() || !workers_.empty()) reducer->start(decoder_params_);
    reducer->start(encoder_params_);
    Tensor sums = Tensor::from_vector(std::vector<double>{loss, nll, tokens}, {3});
    comm_->start_sum(sums);
    interval_times_.compute += seconds_since(clock);
    reducer->finish();
    interval_times_.reduce += seconds_since(clock);
    loss = sums.data<double>()[0], nll = sums.data<double>()[1], tokens = sums.data<double>()[2];
  } else {
    interval_times_.compute += seconds_since(clock);
  }

  const double norm =
      options_.clip_norm > 0 ? clip_grad_norm(params_, options_.clip_norm) : grad_norm(params_);
  const double lr = schedule_.rate(step_ + 1);
  ++step_;
  if (!std::isfinite(norm) || !std::isfinite(loss)) {
    log("step " + std::to_string(step_) + ": non-finite loss or gradient norm; update skipped");
    return;
  }
  optimizer_.step(params_, lr);
  update_ema();
  interval_times_.update += seconds_since(clock);
  interval_loss_ += loss;
  interval_nll_ += nll;
  interval_tokens_ += tokens;
}

Trainer::BatchLoss Trainer::forward_backward(Encoder& encoder, Decoder& decoder,
                                             const data::Batch& batch, const ops::XentOptions& xent,
                                             Rng* rng) {
  const auto on_device = [&](const Tensor& t) { return device_.is_cpu() ? t : t.to(device_); };
  const Memory memory =
      encoder.encode(on_device(batch.source), as_model_dtype(batch.source_mask), rng);
  Decoder::TrainResult result = decoder.forward_backward(memory, on_device(batch.target_input),
                                                         on_device(batch.target_output), xent, rng);
  encoder.backward(result.d_memory);
  return {result.loss.loss, result.loss.nll, static_cast<double>(result.loss.tokens)};
}

Trainer::BatchLoss Trainer::sharded_forward_backward(const ops::XentOptions& xent) {
  S2S_CHECK(static_cast<int>(workers_.size()) + 1 == options_.workers, "Trainer: train.workers is ",
            options_.workers, " but ", workers_.size(), " worker copies were added");
  // The copies compute with the model's weights (shared storage; re-pointed every step, since
  // resume and weight averaging may replace a parameter's tensor) into their own gradients.
  for (const std::unique_ptr<Worker>& w : workers_) {
    w->encoder.set_training(true);
    w->decoder.set_training(true);
    for (size_t i = 0; i < params_.size(); ++i)
      w->params[i]->value = params_[i]->value;
  }
  BatchLoss total;
  std::vector<BatchLoss> losses(workers_.size() + 1);
  std::vector<std::exception_ptr> errors(workers_.size() + 1);
  // A copy's gradients are zeroed when it first computes in this update, on its own thread (the
  // zeroing runs in parallel too); a copy that got no shard (a batch of fewer sentences than
  // workers, a sync rank without a batch) is left out of the sum.
  std::vector<char> computed(workers_.size(), 0);
  for (size_t i = 0; i < batches_.size(); ++i) {
    const std::vector<data::Batch> shards =
        data::split_batch(batches_[i], static_cast<int>(workers_.size()) + 1);
    const Rng batch_rng = Rng(options_.seed).split(static_cast<uint64_t>(batch_serials_[i]));
    auto run_shard = [&](size_t k) {
      try {
        if (k > 0 && !computed[k - 1]) {
          for (Parameter* p : workers_[k - 1]->params)
            p->grad.zero();
          computed[k - 1] = 1;
        }
        Rng rng = batch_rng.split(k);
        Encoder& encoder = k == 0 ? encoder_ : workers_[k - 1]->encoder;
        Decoder& decoder = k == 0 ? decoder_ : workers_[k - 1]->decoder;
        const BatchLoss l = forward_backward(encoder, decoder, shards[k], xent, &rng);
        losses[k].loss += l.loss, losses[k].nll += l.nll, losses[k].tokens += l.tokens;
      } catch (...) {
        errors[k] = std::current_exception();
      }
    };
    std::vector<std::thread> threads;
    for (size_t k = 1; k < shards.size(); ++k)
      threads.emplace_back(run_shard, k);
    run_shard(0);
    for (std::thread& t : threads)
      t.join();
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
  }
  // Sum in a fixed order (worker 1, 2, ... into the model's), so the update is deterministic.
  for (size_t w = 0; w < workers_.size(); ++w)
    for (size_t i = 0; computed[w] && i < params_.size(); ++i)
      if (params_[i]->trainable) ops::axpy(1.0, workers_[w]->params[i]->grad, params_[i]->grad);
  for (const BatchLoss& l : losses)
    total.loss += l.loss, total.nll += l.nll, total.tokens += l.tokens;
  return total;
}

Trainer::BatchLoss Trainer::pipeline_forward_backward(const ops::XentOptions& xent) {
  // This rank's stage (rank % stages; stage_name says which part of the model it holds) over
  // every batch's micro-batches. Per micro-batch k the activations travel down (tags 3k: the
  // tensor, 3k + 1: the memory's summary, 3k + 2: the dropout stream's position) and their
  // gradients up (3k, 3k + 1). The encoder's and the decoder's whole stages are written here;
  // the split ones have their own functions below.
  const int stages = options_.parallel.stages;
  const int stage = comm_->rank() % stages;
  const int peer = stage == 0 ? comm_->rank() + 1 : comm_->rank() - 1;  // next to the encoder
  const DType dtype = dtype_;
  BatchLoss total;
  for (size_t i = 0; i < batches_.size(); ++i) {
    const std::vector<data::Batch> micro =
        data::split_batch(batches_[i], options_.parallel.micro_batches);
    const Rng batch_rng = Rng(options_.seed).split(static_cast<uint64_t>(batch_serials_[i]));
    if (stages == 4 && stage == 0) {
      encoder_bottom_step(micro, batch_rng);
    } else if (stages == 4 && stage == 1) {
      encoder_upper_step(micro, batch_rng);
    } else if (stage == 0) {
      // Every forward first, its memory sent as soon as it is made.
      for (size_t k = 0; k < micro.size(); ++k) {
        timed(stage_compute_, [&] {
          Rng rng = batch_rng.split(k);
          const Memory memory =
              encoder_.encode(micro[k].source, as_model_dtype(micro[k].source_mask), &rng);
          send_memory(memory.vectors, memory.summary, peer, k);
          send_position(rng.counter(), peer, k);
        });
      }
      // Then every backward, in the same order, each after recomputing its forward.
      for (size_t k = 0; k < micro.size(); ++k) {
        const MemoryGradient gradient = receive_memory_gradient(micro[k], peer, k);
        timed(stage_compute_, [&] {
          Rng rng = batch_rng.split(k);
          encoder_.encode(micro[k].source, as_model_dtype(micro[k].source_mask), &rng);
          encoder_.backward(gradient);
        });
      }
      timed(stage_send_, [&] { comm_->wait_sends("memory (the encoder's stage)"); });
    } else if (stages >= 3 && stage == stages - 2) {
      decoder_core_step(micro, batch_rng);
    } else if (stages >= 3 && stage == stages - 1) {
      // The output layer: the loss of each micro-batch's attentional states, their gradient back.
      for (size_t k = 0; k < micro.size(); ++k) {
        const int64_t rows = micro[k].target_output.numel();
        Tensor hidden = Tensor::empty({rows, decoder_.hidden_size()}, dtype, Device::cpu());
        timed(stage_wait_, [&] {
          comm_->recv(hidden, comm_->rank() - 1, static_cast<int>(3 * k),
                      "decoder states (the decoder's pipeline stage)");
        });
        timed(stage_compute_, [&] {
          Tensor d_hidden;
          const ops::XentSums sums =
              decoder_.output_loss(hidden, micro[k].target_output, xent, d_hidden);
          total.loss += sums.loss;
          total.nll += sums.nll;
          total.tokens += static_cast<double>(sums.tokens);
          comm_->start_send(d_hidden.clone(), comm_->rank() - 1, static_cast<int>(3 * k));
          stage_bytes_ += static_cast<double>(d_hidden.bytes());
        });
      }
      timed(stage_send_, [&] { comm_->wait_sends("state gradient (the output layer's stage)"); });
    } else {
      for (size_t k = 0; k < micro.size(); ++k) {
        uint64_t position = 0;
        const Memory memory = receive_memory(micro[k], peer, k, position);
        timed(stage_compute_, [&] {
          // The stream where the encoder left it: the masks of one process's shard k.
          Rng rng(batch_rng.split(k).seed(), position);
          Decoder::TrainResult result = decoder_.forward_backward(
              memory, micro[k].target_input, micro[k].target_output, xent, &rng);
          total.loss += result.loss.loss;
          total.nll += result.loss.nll;
          total.tokens += static_cast<double>(result.loss.tokens);
          send_memory(result.d_memory.vectors, result.d_memory.summary, peer, k);
        });
      }
      timed(stage_send_, [&] { comm_->wait_sends("memory gradient (the decoder's stage)"); });
    }
  }
  return total;
}

void Trainer::send_memory(const Tensor& vectors, const Tensor& summary, int to, size_t k) {
  comm_->start_send(vectors.clone(), to, static_cast<int>(3 * k));
  stage_bytes_ += static_cast<double>(vectors.bytes());
  if (summary.defined()) {
    comm_->start_send(summary.clone(), to, static_cast<int>(3 * k + 1));
    stage_bytes_ += static_cast<double>(summary.bytes());
  }
}

MemoryGradient Trainer::receive_memory_gradient(const data::Batch& micro, int from, size_t k) {
  const int64_t s = micro.source.dim(0), b = micro.source.dim(1);
  const int64_t summary_width = encoder_.summary_size();
  MemoryGradient gradient;
  gradient.vectors = Tensor::empty({s, b, encoder_.memory_size()}, dtype_, Device::cpu());
  if (summary_width > 0)
    gradient.summary = Tensor::empty({b, summary_width}, dtype_, Device::cpu());
  timed(stage_wait_, [&] {
    const std::string what = "memory gradient (the decoder's stage)";
    comm_->recv(gradient.vectors, from, static_cast<int>(3 * k), what);
    if (summary_width > 0) comm_->recv(gradient.summary, from, static_cast<int>(3 * k + 1), what);
  });
  return gradient;
}

Memory Trainer::receive_memory(const data::Batch& micro, int from, size_t k, uint64_t& position) {
  const int64_t s = micro.source.dim(0), b = micro.source.dim(1);
  const int64_t summary_width = encoder_.summary_size();
  Memory memory;
  memory.vectors = Tensor::empty({s, b, encoder_.memory_size()}, dtype_, Device::cpu());
  memory.mask = as_model_dtype(micro.source_mask);
  if (summary_width > 0) memory.summary = Tensor::empty({b, summary_width}, dtype_, Device::cpu());
  timed(stage_wait_, [&] {
    const int tag = static_cast<int>(3 * k);
    const std::string what = "memory (the encoder's stage)";
    comm_->recv(memory.vectors, from, tag, what);
    if (summary_width > 0) comm_->recv(memory.summary, from, tag + 1, what);
    position = receive_position(from, k, what);
  });
  return memory;
}

void Trainer::send_position(uint64_t position, int to, size_t k) {
  comm_->start_send(Tensor::from_vector(std::vector<double>{static_cast<double>(position)}, {1}),
                    to, static_cast<int>(3 * k + 2));
}

uint64_t Trainer::receive_position(int from, size_t k, const std::string& what) {
  Tensor at = Tensor::empty({1}, DType::f64, Device::cpu());
  comm_->recv(at, from, static_cast<int>(3 * k + 2), what);
  return static_cast<uint64_t>(at.data<double>()[0]);
}

void Trainer::encoder_bottom_step(const std::vector<data::Batch>& micro, const Rng& batch_rng) {
  // Stage 1 of 4: the embedding and the encoder's first layer. Forwards first, each output sent
  // with the dropout stream's position; then the backwards, each recomputing its forward.
  const int down = comm_->rank() + 1;
  const int64_t width = encoder_.memory_size();  // the first layer's output is as wide
  for (size_t k = 0; k < micro.size(); ++k) {
    timed(stage_compute_, [&] {
      Rng rng = batch_rng.split(k);
      const Tensor bottom =
          encoder_.encode_bottom(micro[k].source, as_model_dtype(micro[k].source_mask), &rng);
      comm_->start_send(bottom.clone(), down, static_cast<int>(3 * k));
      stage_bytes_ += static_cast<double>(bottom.bytes());
      send_position(rng.counter(), down, k);
    });
  }
  for (size_t k = 0; k < micro.size(); ++k) {
    Tensor d_bottom = Tensor::empty({micro[k].source.dim(0), micro[k].source.dim(1), width}, dtype_,
                                    Device::cpu());
    timed(stage_wait_, [&] {
      comm_->recv(d_bottom, down, static_cast<int>(3 * k),
                  "first-layer gradient (the encoder's upper stage)");
    });
    timed(stage_compute_, [&] {
      Rng rng = batch_rng.split(k);
      encoder_.encode_bottom(micro[k].source, as_model_dtype(micro[k].source_mask), &rng);
      encoder_.backward_bottom(d_bottom);
    });
  }
  timed(stage_send_, [&] { comm_->wait_sends("first-layer output (the encoder's first stage)"); });
}

void Trainer::encoder_upper_step(const std::vector<data::Batch>& micro, const Rng& batch_rng) {
  // Stage 2 of 4: the encoder's upper layers and the summary. Each first-layer output is kept
  // for the recomputation before its backward.
  const int down = comm_->rank() + 1, up = comm_->rank() - 1;
  const int64_t width = encoder_.memory_size();
  std::vector<Tensor> bottoms(micro.size());
  std::vector<uint64_t> positions(micro.size());
  for (size_t k = 0; k < micro.size(); ++k) {
    bottoms[k] = Tensor::empty({micro[k].source.dim(0), micro[k].source.dim(1), width}, dtype_,
                               Device::cpu());
    timed(stage_wait_, [&] {
      const std::string what = "first-layer output (the encoder's first stage)";
      comm_->recv(bottoms[k], up, static_cast<int>(3 * k), what);
      positions[k] = receive_position(up, k, what);
    });
    timed(stage_compute_, [&] {
      Rng rng(batch_rng.split(k).seed(), positions[k]);
      const Memory memory =
          encoder_.encode_upper(bottoms[k], as_model_dtype(micro[k].source_mask), &rng);
      send_memory(memory.vectors, memory.summary, down, k);
      send_position(rng.counter(), down, k);
    });
  }
  for (size_t k = 0; k < micro.size(); ++k) {
    const MemoryGradient gradient = receive_memory_gradient(micro[k], down, k);
    timed(stage_compute_, [&] {
      Rng rng(batch_rng.split(k).seed(), positions[k]);
      encoder_.encode_upper(bottoms[k], as_model_dtype(micro[k].source_mask), &rng);
      const Tensor d_bottom = encoder_.backward_upper(gradient);
      comm_->start_send(d_bottom.clone(), up, static_cast<int>(3 * k));
      stage_bytes_ += static_cast<double>(d_bottom.bytes());
    });
  }
  timed(stage_send_,
        [&] { comm_->wait_sends("memory and first-layer gradients (the encoder's upper stage)"); });
}

void Trainer::decoder_core_step(const std::vector<data::Batch>& micro, const Rng& batch_rng) {
  // Stage 2 of 3: the decoder without its output layer. Every forward first (each memory as it
  // arrives, its states sent on), then every backward, each after recomputing its forward from
  // the memory kept and the same dropout stream.
  const int down = comm_->rank() + 1, up = comm_->rank() - 1;
  std::vector<Memory> memories(micro.size());
  std::vector<uint64_t> positions(micro.size());
  for (size_t k = 0; k < micro.size(); ++k) {
    const Memory& memory = memories[k] = receive_memory(micro[k], up, k, positions[k]);
    timed(stage_compute_, [&] {
      Rng rng(batch_rng.split(k).seed(), positions[k]);
      const Tensor hidden = decoder_.forward_hidden(memory, micro[k].target_input, &rng);
      comm_->start_send(hidden.clone(), down, static_cast<int>(3 * k));
      stage_bytes_ += static_cast<double>(hidden.bytes());
    });
  }
  for (size_t k = 0; k < micro.size(); ++k) {
    Tensor d_hidden = Tensor::empty({micro[k].target_output.numel(), decoder_.hidden_size()},
                                    dtype_, Device::cpu());
    timed(stage_wait_, [&] {
      comm_->recv(d_hidden, down, static_cast<int>(3 * k),
                  "state gradient (the output layer's stage)");
    });
    timed(stage_compute_, [&] {
      Rng rng(batch_rng.split(k).seed(), positions[k]);
      decoder_.forward_hidden(memories[k], micro[k].target_input, &rng);
      const MemoryGradient gradient = decoder_.backward_hidden(d_hidden);
      send_memory(gradient.vectors, gradient.summary, up, k);
    });
  }
  timed(stage_send_,
        [&] { comm_->wait_sends("decoder states and memory gradients (the decoder's stage)"); });
}

namespace {
const char* stage_name(int stage, int stages) {
  if (stages == 4)
    return stage == 0   ? "encoder's first layer"
           : stage == 1 ? "encoder's upper layers"
           : stage == 2 ? "decoder"
                        : "output layer";
  if (stage == 0) return "encoder";
  if (stages == 2) return "decoder and output layer";
  return stage == 1 ? "decoder" : "output layer";
}
}  // namespace

std::vector<Parameter*> Trainer::stage_parameters(int stage) {
  const int stages = options_.parallel.stages;
  const auto less = [](const std::vector<Parameter*>& all, const std::vector<Parameter*>& part) {
    std::vector<Parameter*> rest;
    for (Parameter* p : all)
      if (std::find(part.begin(), part.end(), p) == part.end()) rest.push_back(p);
    return rest;
  };
  if (stages == 4 && stage <= 1) {
    const std::vector<Parameter*> upper = encoder_.upper_parameters();
    return stage == 1 ? upper : less(encoder_params_, upper);
  }
  if (stage == 0) return encoder_params_;
  if (stages == 2) return decoder_params_;
  const std::vector<Parameter*> output = decoder_.output_parameters();
  if (stage == stages - 1) return output;
  std::vector<Parameter*> core;  // the decoder less its output layer
  for (Parameter* p : decoder_params_)
    if (std::find(output.begin(), output.end(), p) == output.end()) core.push_back(p);
  return core;
}

void Trainer::gather_stages() {
  if (!pipelined()) return;
  // Every later stage's parameters and their optimizer state, from replica 0 (world rank s).
  for (int stage = 1; stage < options_.parallel.stages; ++stage) {
    const std::vector<Parameter*> params = stage_parameters(stage);
    for (Parameter* p : params)
      comm_->broadcast(p->value, stage);
    for (auto& [name, tensor] : optimizer_.state(params))
      comm_->broadcast(tensor, stage);
  }
}

std::pair<double, double> Trainer::validation_loss() {
  const bool encoder_training = encoder_.training(), decoder_training = decoder_.training();
  encoder_.set_training(false);
  decoder_.set_training(false);
  const auto on_device = [&](const Tensor& t) { return device_.is_cpu() ? t : t.to(device_); };
  double nll = 0, tokens = 0;
  ops::XentOptions xent;
  xent.pad_id = train_.options().ids.pad;
  for (const data::Batch& batch : valid_) {
    const Memory memory =
        hooks_.load_source
            ? encoder_.encode(on_device(hooks_.load_source(batch, step_, false)), Tensor(), nullptr)
            : encoder_.encode(on_device(batch.source), as_model_dtype(batch.source_mask), nullptr);
    const ops::XentSums sums =
        decoder_.loss(memory, on_device(batch.target_input), on_device(batch.target_output), xent);
    nll += sums.nll;
    tokens += sums.tokens;
  }
  encoder_.set_training(encoder_training);
  decoder_.set_training(decoder_training);
  const double per_token = tokens > 0 ? nll / tokens : 0;
  return {per_token, std::exp(per_token)};
}

bool Trainer::validate() {
  const EmaWeights average(*this);  // validated and saved as the model, when it is on
  const auto [nll, perplexity] = validation_loss();
  TrainLogRecord record;
  record.kind = TrainLogRecord::Kind::validation;
  record.nll = nll;
  record.perplexity = perplexity;
  std::string line = "validation at step " + std::to_string(step_) + ": nll/token " +
                     format("%.4f", nll) + ", perplexity " + format("%.2f", perplexity);
  double metric = perplexity;
  bool higher_is_better = false;
  if (hooks_.validation_score) {
    const double score = hooks_.validation_score();
    record.score_name = hooks_.validation_score_name;
    record.score = score;
    line += ", " + hooks_.validation_score_name + " " + format("%.2f", score);
    if (options_.valid_metric == hooks_.validation_score_name)
      metric = score, higher_is_better = true;
  }
  const bool improved =
      !have_best_ || (higher_is_better ? metric > best_metric_ : metric < best_metric_);
  {
    std::lock_guard lock(schedule_mutex_);  // async replicas read the rate meanwhile
    schedule_.report_validation(improved);
  }
  if (improved) {
    have_best_ = true;
    best_metric_ = metric;
    stalled_ = 0;
    save_best();
    line += " (new best " + options_.valid_metric + ")";
  } else {
    ++stalled_;
    line += " (best " + options_.valid_metric + " " + format("%.2f", best_metric_) + ", " +
            std::to_string(stalled_) + " validation" + (stalled_ == 1 ? "" : "s") +
            " without improvement)";
  }
  record.improved = improved;
  record.text = line;
  log(std::move(record));
  return improved;
}

std::string Trainer::state_yaml() const {
  Config state;
  const data::Batcher::State& data = data_state_;
  state.set("step", std::to_string(step_));
  state.set("epoch", std::to_string(data_epoch_));
  state.set("data.epoch", std::to_string(data.epoch));
  state.set("data.batches_in_epoch", std::to_string(data.batches_in_epoch));
  state.set("rng.seed", std::to_string(rng_.seed()));
  state.set("rng.counter", std::to_string(rng_.counter()));
  state.set("optimizer.steps",
            std::to_string(store_ ? store_->optimizer_steps() : optimizer_.steps_taken()));
  state.set("schedule.factor", format("%.17g", schedule_.factor()));
  state.set("schedule.misses", std::to_string(schedule_.misses()));
  state.set("validation.have_best", have_best_ ? "true" : "false");
  state.set("validation.best", format("%.17g", best_metric_));
  state.set("validation.stalled", std::to_string(stalled_));
  return state.to_yaml();
}

void Trainer::save_checkpoint() {
  FolderContents contents;
  contents.parameters = params_;
  contents.config_yaml = hooks_.config_yaml;
  contents.copies = hooks_.model_files;
  contents.optimizer = optimizer_state();
  contents.state_yaml = state_yaml();
  const std::string folder = checkpoints_.save(step_, contents);
  TrainLogRecord record;
  record.kind = TrainLogRecord::Kind::checkpoint;
  record.checkpoint = folder;
  record.text = "saved checkpoint " + folder;
  log(std::move(record));
}

void Trainer::save_best() {
  FolderContents contents;
  contents.parameters = params_;
  contents.config_yaml = hooks_.config_yaml;
  contents.copies = hooks_.model_files;
  write_folder((fs::path(options_.output_dir) / "model").string(), contents);
}

void Trainer::resume(const std::string& folder) {
  const fs::path dir(folder);
  // Every file against the checkpoint's manifest first: a damaged model, optimizer state,
  // state.yaml or marker is an IntegrityError naming it before anything here is changed.
  verify_folder(folder);
  load_parameters((dir / "model.safetensors").string(), params_, false, Verify::none);
  load_tensors((dir / "optimizer.safetensors").string(), optimizer_state());
  const Config state = Config::from_yaml_file((dir / "state.yaml").string());
  step_ = state.get<int64_t>("step");
  epoch_ = state.get<int64_t>("epoch");
  rng_ = Rng(std::stoull(state.get<std::string>("rng.seed")),
             std::stoull(state.get<std::string>("rng.counter")));
  optimizer_.set_steps_taken(state.get<int64_t>("optimizer.steps"));
  if (store_) {
    store_->set_optimizer_steps(state.get<int64_t>("optimizer.steps"));
    store_->set_version(step_);
  }
  schedule_.restore(state.get<double>("schedule.factor"), state.get<int>("schedule.misses"));
  have_best_ = state.get<bool>("validation.have_best");
  best_metric_ = state.get<double>("validation.best");
  stalled_ = state.get<int>("validation.stalled");
  data_state_ = {state.get<int64_t>("data.epoch"), state.get<int64_t>("data.batches_in_epoch")};
  data_epoch_ = epoch_;
  train_.restore(data_state_);
  log("resumed from " + folder + " at step " + std::to_string(step_) + ", epoch " +
      std::to_string(epoch_ + 1));
}

namespace {
std::string describe_times(const StepTimes& t) {
  const double total = std::max(t.total(), 1e-9);
  const auto pct = [&](double x) { return format("%.0f%%", 100 * x / total); };
  return "time: data " + pct(t.data) + ", compute " + pct(t.compute) + ", wait " + pct(t.wait) +
         ", all-reduce " + pct(t.reduce) + ", update " + pct(t.update);
}
}  // namespace

void Trainer::log_interval(Progress& progress, Clock::time_point& interval_start) {
  const auto now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - interval_start).count();
  interval_start = now;
  total_times_.data += interval_times_.data;
  total_times_.compute += interval_times_.compute;
  total_times_.wait += interval_times_.wait;
  total_times_.reduce += interval_times_.reduce;
  total_times_.update += interval_times_.update;
  if (interval_tokens_ > 0) last_loss_ = interval_loss_ / interval_tokens_;
  if (interval_tokens_ > 0 && is_root()) {
    TrainLogRecord record;
    record.kind = TrainLogRecord::Kind::progress;
    record.loss = last_loss_;
    record.perplexity = std::exp(interval_nll_ / interval_tokens_);
    record.tokens_per_second = interval_tokens_ / seconds;
    record.learning_rate = schedule_.rate(step_);
    std::string line = "step " + std::to_string(step_) + " | epoch " + std::to_string(epoch_ + 1) +
                       " | loss " + format("%.4f", last_loss_) + " | ppl " +
                       format("%.2f", std::exp(interval_nll_ / interval_tokens_)) + " | " +
                       format("%.0f", interval_tokens_ / seconds) + " tgt tok/s | lr " +
                       format("%.3g", schedule_.rate(step_)) + " | elapsed " +
                       Progress::format_duration(progress.elapsed_seconds());
    if (options_.parallel.mode != ParallelMode::none || options_.parallel.accumulate > 1)
      line += " | " + describe_times(interval_times_);
    if (store_) {
      const StalenessCounters& c = interval_staleness_;
      line += " | staleness mean " +
              format("%.2f", c.pushes ? static_cast<double>(c.staleness_sum) / c.pushes : 0.0) +
              " max " + std::to_string(c.staleness_max) + ", dropped " + std::to_string(c.dropped) +
              "/" + std::to_string(c.pushes) + ", scaled " + std::to_string(c.scaled);
    }
    record.text = line;
    log(std::move(record));
  }
  interval_loss_ = interval_nll_ = interval_tokens_ = 0;
  interval_times_ = {};
  interval_staleness_ = {};
}

void Trainer::run_sync(TrainingSummary& summary, Progress& progress) {
  const bool validating = !valid_.empty() && options_.valid_every > 0;
  std::unique_ptr<GradientReducer> reducer;
  if (comm_ && pipelined()) {
    for (Parameter* p : params_)  // every stage starts from rank 0's weights
      comm_->broadcast(p->value, 0);
    log("pipeline: " + std::to_string(options_.parallel.stages) + " stages (" +
        (options_.parallel.stages == 2   ? "encoder | decoder and output layer"
         : options_.parallel.stages == 3 ? "encoder | decoder | output layer"
                                         : "encoder's first layer | its upper layers | decoder | "
                                           "output layer") +
        "; rank r is stage r % " + std::to_string(options_.parallel.stages) + ") x " +
        std::to_string(replicas()) + " replica" + (replicas() == 1 ? "" : "s") + ", " +
        std::to_string(options_.parallel.micro_batches) +
        " micro-batches a batch, GPipe schedule; " + comm_->describe());
  } else if (comm_) {
    reducer = std::make_unique<GradientReducer>(
        *comm_, static_cast<int64_t>(options_.parallel.bucket_mb * (1 << 20)));
    // Every rank starts from rank 0's weights, whatever their initialisation did.
    for (Parameter* p : params_)
      comm_->broadcast(p->value, 0);
  }
  if (optimizer_.steps_taken() == 0)  // a new run: the average starts at the initial weights
    for (size_t i = 0; i < ema_.size(); ++i)
      ema_[i].copy_from(params_[i]->value);
  auto interval_start = Clock::now();
  for (;;) {
    if (options_.max_steps > 0 && step_ >= options_.max_steps) {
      summary.reason = StopReason::max_steps;
      break;
    }
    auto clock = Clock::now();
    data_state_ = train_.state();
    data_epoch_ = epoch_;
    if (!read_step(summary.reason)) break;
    interval_times_.data += seconds_since(clock);
    // The step's header: every rank learns the update's target tokens (to scale the loss) and
    // whether any rank must stop, so that all stop at the same step.
    double tokens = 0;
    for (const data::Batch& b : batches_)
      tokens += static_cast<double>(b.target_tokens);
    // The stages of a replica read the same batches: its first stage counts them.
    if (pipelined() && comm_->rank() % options_.parallel.stages != 0) tokens = 0;
    const bool out_of_time =
        options_.max_minutes > 0 && progress.elapsed_seconds() >= 60 * options_.max_minutes;
    std::vector<double> header = {tokens, stop_asked() ? 1.0 : 0.0,
                                  is_root() && out_of_time ? 1.0 : 0.0,
                                  is_root() && early_stop_pending_ ? 1.0 : 0.0};
    if (comm_)
      header =
          comm_->sum_scalars(header, options_.parallel.timeout * (validated_last_step_ ? 10 : 1));
    validated_last_step_ = false;
    interval_times_.wait += seconds_since(clock);
    if (header[1] > 0 || header[2] > 0 || header[3] > 0) {
      summary.reason = header[1] > 0   ? StopReason::interrupted
                       : header[2] > 0 ? StopReason::max_minutes
                                       : StopReason::early_stopping;
      break;
    }
    train_step(header[0], reducer.get());
    if (reducer && reducer->buckets_sent() > 0 && !described_reduce_) {
      described_reduce_ = true;
      log("gradient all-reduce: " + format("%.2f", reducer->bytes_sent() / 1048576.0) +
          " MiB per update in " + std::to_string(reducer->buckets_sent()) +
          " buckets (MPI_Iallreduce; the decoder's start before the encoder's backward), " +
          std::to_string(comm_->size()) + " ranks");
    }
    data_state_ = train_.state();
    data_epoch_ = epoch_;
    // Every rank knows when rank 0 validates or saves, and then waits longer for the next header.
    validated_last_step_ = (validating && step_ % options_.valid_every == 0) ||
                           (options_.save_every > 0 && step_ % options_.save_every == 0);

    if (step_ % options_.log_every == 0) log_interval(progress, interval_start);
    progress.update(step_, "epoch " + std::to_string(epoch_ + 1));
    if (validated_last_step_) gather_stages();
    if (!is_root()) continue;  // rank 0 alone validates and writes
    if (validating && step_ % options_.valid_every == 0) {
      validate();
      last_validated_ = step_;
      save_checkpoint();
      last_saved_ = step_;
      if (options_.patience > 0 && stalled_ >= options_.patience) early_stop_pending_ = true;
    } else if (options_.save_every > 0 && step_ % options_.save_every == 0) {
      save_checkpoint();
      last_saved_ = step_;
    }
  }
}

void Trainer::replica_loop(Replica& r) {
  try {
    ParameterStore& store = *store_;
    ops::XentOptions xent;
    xent.label_smoothing = options_.label_smoothing;
    xent.pad_id = train_.options().ids.pad;
    StepTimes times;
    while (!async_stop_) {
      auto clock = Clock::now();
      data::Batch batch;
      {
        std::lock_guard lock(data_mutex_);  // the batches are shared out: each goes to one replica
        if (async_stop_) break;
        if (!train_.next(batch)) {
          ++epoch_;
          if (options_.max_epochs > 0 && epoch_ >= options_.max_epochs) {
            async_stop_reason_ = static_cast<int>(StopReason::max_epochs);
            async_stop_ = true;
            break;
          }
          train_.start_epoch(epoch_);
          if (!train_.next(batch))
            throw InputError("no training batches: the corpus is empty or every line was filtered");
        }
      }
      times.data += seconds_since(clock);
      const int64_t version = store.pull(r.params);
      for (Parameter* p : r.params)
        p->grad.zero();
      times.wait += seconds_since(clock);
      r.encoder.set_training(true);
      r.decoder.set_training(true);
      xent.grad_scale = 1.0 / static_cast<double>(std::max<int64_t>(batch.target_tokens, 1));
      const Memory memory =
          hooks_.load_source
              ? r.encoder.encode(hooks_.load_source(batch, version + 1, true), Tensor(), &r.rng)
              : r.encoder.encode(batch.source, as_model_dtype(batch.source_mask), &r.rng);
      Decoder::TrainResult result =
          r.decoder.forward_backward(memory, batch.target_input, batch.target_output, xent, &r.rng);
      r.encoder.backward(result.d_memory);
      times.compute += seconds_since(clock);
      const double norm = options_.clip_norm > 0 ? clip_grad_norm(r.params, options_.clip_norm)
                                                 : grad_norm(r.params);
      bool applied = false;
      if (std::isfinite(norm) && std::isfinite(result.loss.loss)) {
        double lr;
        {
          std::lock_guard lock(schedule_mutex_);
          lr = schedule_.rate(store.version() + 1);
        }
        applied = store.push(r.params, version, lr).applied;
      }
      times.update += seconds_since(clock);
      {
        std::lock_guard lock(stats_mutex_);
        if (applied) {
          interval_loss_ += result.loss.loss;
          interval_nll_ += result.loss.nll;
          interval_tokens_ += result.loss.tokens;
        }
        interval_times_.data += times.data;
        interval_times_.compute += times.compute;
        interval_times_.wait += times.wait;
        interval_times_.update += times.update;
        times = {};
      }
      if (options_.max_steps > 0 && store.version() >= options_.max_steps) {
        async_stop_reason_ = static_cast<int>(StopReason::max_steps);
        async_stop_ = true;
      }
    }
  } catch (...) {
    std::lock_guard lock(stats_mutex_);
    if (!replica_error_) replica_error_ = std::current_exception();
    async_stop_ = true;
  }
}

void Trainer::run_async(TrainingSummary& summary, Progress& progress) {
  S2S_CHECK(!replicas_.empty(), "train.parallel.mode async: no replicas were added");
  const bool validating = !valid_.empty() && options_.valid_every > 0;
  ParameterStore& store = this->store();
  store.set_version(step_);
  async_stop_ = false;
  async_stop_reason_ = -1;
  for (auto& r : replicas_)
    r->thread = std::thread([this, &r] { replica_loop(*r); });
  struct Join {  // the threads end with this frame, exception or not
    Trainer& t;
    ~Join() {
      t.async_stop_ = true;
      for (auto& r : t.replicas_)
        if (r->thread.joinable()) r->thread.join();
    }
  } join{*this};
  // Under every shard lock and the data lock: parameters, optimizer state and data position of
  // one moment. Batches being computed then are not in the checkpoint's data position.
  const auto snapshot = [&](auto&& body) {
    auto locks = store.lock_all();
    std::lock_guard lock(data_mutex_);
    step_ = store.version();
    data_state_ = train_.state();
    data_epoch_ = epoch_;
    body();
  };
  auto interval_start = Clock::now();
  const auto next_multiple = [](int64_t step, int64_t every) {
    return every > 0 ? (step / every + 1) * every : std::numeric_limits<int64_t>::max();
  };
  int64_t next_log = next_multiple(step_, options_.log_every);
  int64_t next_valid =
      validating ? next_multiple(step_, options_.valid_every) : std::numeric_limits<int64_t>::max();
  int64_t next_save = next_multiple(step_, options_.save_every);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    step_ = store.version();
    if (async_stop_) {
      if (async_stop_reason_ >= 0)
        summary.reason = static_cast<StopReason>(async_stop_reason_.load());
      break;
    }
    if (stop_asked()) {
      summary.reason = StopReason::interrupted;
      break;
    }
    if (options_.max_minutes > 0 && progress.elapsed_seconds() >= 60 * options_.max_minutes) {
      summary.reason = StopReason::max_minutes;
      break;
    }
    if (step_ >= next_log) {
      std::lock_guard lock(stats_mutex_);
      interval_staleness_ = store.take_counters();
      log_interval(progress, interval_start);
      next_log = next_multiple(step_, options_.log_every);
    }
    int64_t epoch;
    {
      std::lock_guard lock(data_mutex_);
      epoch = epoch_;
    }
    progress.update(step_, "epoch " + std::to_string(epoch + 1));
    if (step_ >= next_valid) {
      snapshot([&] {
        validate();
        last_validated_ = step_;
        save_checkpoint();
        last_saved_ = step_;
      });
      next_valid = next_multiple(step_, options_.valid_every);
      if (options_.patience > 0 && stalled_ >= options_.patience) {
        summary.reason = StopReason::early_stopping;
        break;
      }
    } else if (step_ >= next_save) {
      snapshot([&] {
        save_checkpoint();
        last_saved_ = step_;
      });
      next_save = next_multiple(step_, options_.save_every);
    }
  }
  async_stop_ = true;
  for (auto& r : replicas_)
    if (r->thread.joinable()) r->thread.join();
  if (replica_error_) std::rethrow_exception(replica_error_);
  step_ = store.version();
  data_state_ = train_.state();
  data_epoch_ = epoch_;
  std::lock_guard lock(stats_mutex_);
  interval_staleness_ = store.take_counters();
  if (interval_tokens_ > 0) log_interval(progress, interval_start);
}

TrainingSummary Trainer::run() {
  TrainingSummary summary;
  // Only rank 0 shows progress; the others write theirs nowhere.
  std::FILE* quiet = is_root() ? nullptr : std::fopen("/dev/null", "w");
  struct Close {
    std::FILE* f;
    ~Close() {
      if (f) std::fclose(f);
    }
  } close{quiet};
  Progress progress("training", options_.max_steps, "steps", quiet ? quiet : stderr);
  progress_ = &progress;
  struct Release {  // the live line dies with this frame, exception or not
    Progress*& p;
    ~Release() { p = nullptr; }
  } release{progress_};
  const bool validating = !valid_.empty() && options_.valid_every > 0;
  last_validated_ = last_saved_ = -1;
  if (options_.parallel.mode == ParallelMode::sync)
    S2S_CHECK(comm_, "train.parallel.mode sync: no communicator was set");
  if (options_.parallel.mode == ParallelMode::async)
    run_async(summary, progress);
  else
    run_sync(summary, progress);
  progress.finish();
  if (interval_tokens_ > 0) last_loss_ = interval_loss_ / interval_tokens_;
  total_times_.data += interval_times_.data;
  total_times_.compute += interval_times_.compute;
  total_times_.wait += interval_times_.wait;
  total_times_.reduce += interval_times_.reduce;
  total_times_.update += interval_times_.update;
  interval_times_ = {};
  if (total_times_.total() > 0)
    log("over the run: " + describe_times(total_times_) + " of " +
        format("%.1f", total_times_.total()) +
        (options_.parallel.mode == ParallelMode::async ? " thread-seconds" : " s"));
  {
    // Where the process's host memory went (host_allocator.h): tensors at their peak, and the
    // cache of freed blocks, which no tensor uses but spares the next step the page faults.
    const host_allocator::Stats memory = host_allocator::stats();
    const double lookups = static_cast<double>(memory.hits + memory.misses);
    const auto mib = [](size_t bytes) { return format("%.0f", bytes / 1048576.0) + " MiB"; };
    log("host memory: tensors " + mib(memory.peak_in_use_bytes) + " at most, " +
        mib(memory.in_use_bytes) + " now; cache " + mib(memory.cached_bytes) + " idle (limit " +
        mib(host_allocator::cache_limit()) + ", S2S_HOST_CACHE_MB), " +
        format("%.1f", lookups > 0 ? 100.0 * memory.hits / lookups : 0.0) +
        "% of large allocations served from it");
  }
  if (pipelined()) {
    // Rank 0 reports every stage: computing, waiting for the other stage, for its own sends.
    const int stages = options_.parallel.stages;
    std::vector<double> times(static_cast<size_t>(4 * stages), 0.0);
    const size_t mine = static_cast<size_t>(4 * (comm_->rank() % stages));  // replica 0 reports
    if (comm_->rank() >= stages) std::fill(times.begin(), times.end(), 0.0);
    if (comm_->rank() < stages) {
      times[mine] = stage_compute_, times[mine + 1] = stage_wait_, times[mine + 2] = stage_send_;
      times[mine + 3] = stage_bytes_;
    }
    times = comm_->sum_scalars(times);
    for (int k = 0; k < stages; ++k) {
      const double* t = &times[static_cast<size_t>(4 * k)];
      const double all = t[0] + t[1] + t[2];
      log("pipeline stage " + std::to_string(k + 1) + " of " + std::to_string(stages) + " (" +
          stage_name(k, stages) + "): computing " + format("%.2f", t[0]) +
          " s, waiting for other stages " + format("%.2f", t[1]) +
          " s, for its sends to be taken " + format("%.2f", t[2]) + " s (" +
          format("%.0f", all > 0 ? 100.0 * (t[1] + t[2]) / all : 0.0) + "% idle); sent " +
          format("%.2f", t[3] / 1048576.0) + " MiB");
    }
    if (step_ > 0) gather_stages();  // rank 0 may validate and save once more below
  }
  if (is_root()) {
    if (summary.reason != StopReason::interrupted && validating && last_validated_ != step_ &&
        step_ > 0)
      validate();
    if (last_saved_ != step_ && step_ > 0) save_checkpoint();
    if (!validating && step_ > 0) {  // without a dev set the last model is the model
      const EmaWeights average(*this);
      save_best();
    }
  }
  summary.steps = step_;
  summary.epochs_completed = epoch_;
  summary.best_metric = best_metric_;
  summary.last_loss = last_loss_;
  summary.best_model = (have_best_ || !validating) && step_ > 0
                           ? (fs::path(options_.output_dir) / "model").string()
                           : "";
  log("training stopped at step " + std::to_string(step_) + ": " +
      stop_reason_name(summary.reason));
  return summary;
}

}  // namespace s2s
