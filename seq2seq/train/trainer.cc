// The training loop.
#include "seq2seq/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "seq2seq/config.h"
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
  S2S_CHECK_AS(ConfigError, !options_.output_dir.empty(), "train: an output folder is required");
  S2S_CHECK_AS(ConfigError,
               options_.max_steps > 0 || options_.max_epochs > 0 || options_.max_minutes > 0,
               "train: set train.max_steps, train.max_epochs or train.max_minutes (all are 0: it "
               "would never stop)");
  S2S_CHECK_AS(ConfigError,
               options_.valid_metric == "perplexity" ||
                   options_.valid_metric == hooks_.validation_score_name,
               "train.valid_metric must be perplexity or ", hooks_.validation_score_name, ", got '",
               options_.valid_metric, "'");
  S2S_CHECK_AS(ConfigError, options_.valid_metric == "perplexity" || hooks_.validation_score,
               "train.valid_metric is ", options_.valid_metric, " but no dev set can be decoded");
}

void Trainer::log(const std::string& line) const {
  if (hooks_.log)
    hooks_.log(line);
  else if (progress_)
    progress_->log(line);
  else
    std::fprintf(stderr, "%s\n", line.c_str());
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

void Trainer::train_step(const data::Batch& batch) {
  encoder_.set_training(true);
  decoder_.set_training(true);
  for (Parameter* p : params_)
    p->grad.zero();
  const auto on_device = [&](const Tensor& t) { return device_.is_cpu() ? t : t.to(device_); };
  const Memory memory =
      hooks_.load_source
          ? encoder_.encode(on_device(hooks_.load_source(batch, step_ + 1, true)), Tensor(), &rng_)
          : encoder_.encode(on_device(batch.source), as_model_dtype(batch.source_mask), &rng_);
  ops::XentOptions xent;
  xent.label_smoothing = options_.label_smoothing;
  xent.pad_id = train_.options().ids.pad;
  // The gradient of the mean loss per target token, without a pass over the logits to scale it.
  xent.grad_scale = 1.0 / static_cast<double>(std::max<int64_t>(batch.target_tokens, 1));
  Decoder::TrainResult result = decoder_.forward_backward(
      memory, on_device(batch.target_input), on_device(batch.target_output), xent, &rng_);
  encoder_.backward(result.d_memory);

  const double norm =
      options_.clip_norm > 0 ? clip_grad_norm(params_, options_.clip_norm) : grad_norm(params_);
  const double lr = schedule_.rate(step_ + 1);
  ++step_;
  if (!std::isfinite(norm) || !std::isfinite(result.loss.loss)) {
    log("step " + std::to_string(step_) + ": non-finite loss or gradient norm; update skipped");
    return;
  }
  optimizer_.step(params_, lr);
  interval_loss_ += result.loss.loss;
  interval_nll_ += result.loss.nll;
  interval_tokens_ += result.loss.tokens;
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
  const auto [nll, perplexity] = validation_loss();
  std::string line = "validation at step " + std::to_string(step_) + ": nll/token " +
                     format("%.4f", nll) + ", perplexity " + format("%.2f", perplexity);
  double metric = perplexity;
  bool higher_is_better = false;
  if (hooks_.validation_score) {
    const double score = hooks_.validation_score();
    line += ", " + hooks_.validation_score_name + " " + format("%.2f", score);
    if (options_.valid_metric == hooks_.validation_score_name)
      metric = score, higher_is_better = true;
  }
  const bool improved =
      !have_best_ || (higher_is_better ? metric > best_metric_ : metric < best_metric_);
  schedule_.report_validation(improved);
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
  log(line);
  return improved;
}

std::string Trainer::state_yaml() const {
  Config state;
  const data::Batcher::State data = train_.state();
  state.set("step", std::to_string(step_));
  state.set("epoch", std::to_string(epoch_));
  state.set("data.epoch", std::to_string(data.epoch));
  state.set("data.batches_in_epoch", std::to_string(data.batches_in_epoch));
  state.set("rng.seed", std::to_string(rng_.seed()));
  state.set("rng.counter", std::to_string(rng_.counter()));
  state.set("optimizer.steps", std::to_string(optimizer_.steps_taken()));
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
  contents.optimizer = optimizer_.state(params_);
  contents.state_yaml = state_yaml();
  const std::string folder = checkpoints_.save(step_, contents);
  log("saved checkpoint " + folder);
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
  load_parameters((dir / "model.safetensors").string(), params_);
  load_tensors((dir / "optimizer.safetensors").string(), optimizer_.state(params_));
  const Config state = Config::from_yaml_file((dir / "state.yaml").string());
  step_ = state.get<int64_t>("step");
  epoch_ = state.get<int64_t>("epoch");
  rng_ = Rng(std::stoull(state.get<std::string>("rng.seed")),
             std::stoull(state.get<std::string>("rng.counter")));
  optimizer_.set_steps_taken(state.get<int64_t>("optimizer.steps"));
  schedule_.restore(state.get<double>("schedule.factor"), state.get<int>("schedule.misses"));
  have_best_ = state.get<bool>("validation.have_best");
  best_metric_ = state.get<double>("validation.best");
  stalled_ = state.get<int>("validation.stalled");
  train_.restore({state.get<int64_t>("data.epoch"), state.get<int64_t>("data.batches_in_epoch")});
  log("resumed from " + folder + " at step " + std::to_string(step_) + ", epoch " +
      std::to_string(epoch_ + 1));
}

TrainingSummary Trainer::run() {
  TrainingSummary summary;
  Progress progress("training", options_.max_steps, "steps");
  progress_ = &progress;
  struct Release {  // the live line dies with this frame, exception or not
    Progress*& p;
    ~Release() { p = nullptr; }
  } release{progress_};
  const bool validating = !valid_.empty() && options_.valid_every > 0;
  int64_t last_validated = -1, last_saved = -1;
  auto interval_start = std::chrono::steady_clock::now();

  data::Batch batch;
  for (;;) {
    if (options_.max_steps > 0 && step_ >= options_.max_steps) {
      summary.reason = StopReason::max_steps;
      break;
    }
    if (stop_requested()) {
      summary.reason = StopReason::interrupted;
      break;
    }
    if (options_.max_minutes > 0 && progress.elapsed_seconds() >= 60 * options_.max_minutes) {
      summary.reason = StopReason::max_minutes;
      break;
    }
    if (!train_.next(batch)) {
      ++epoch_;
      if (options_.max_epochs > 0 && epoch_ >= options_.max_epochs) {
        summary.reason = StopReason::max_epochs;
        break;
      }
      train_.start_epoch(epoch_);
      if (!train_.next(batch))
        throw InputError("no training batches: the corpus is empty or every line was filtered");
    }
    train_step(batch);

    if (step_ % options_.log_every == 0 && interval_tokens_ > 0) {
      const auto now = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now - interval_start).count();
      last_loss_ = interval_loss_ / interval_tokens_;
      log("step " + std::to_string(step_) + " | epoch " + std::to_string(epoch_ + 1) + " | loss " +
          format("%.4f", last_loss_) + " | ppl " +
          format("%.2f", std::exp(interval_nll_ / interval_tokens_)) + " | " +
          format("%.0f", interval_tokens_ / seconds) + " tgt tok/s | lr " +
          format("%.3g", schedule_.rate(step_)) + " | elapsed " +
          Progress::format_duration(progress.elapsed_seconds()));
      interval_loss_ = interval_nll_ = interval_tokens_ = 0;
      interval_start = now;
    }
    progress.update(step_, "epoch " + std::to_string(epoch_ + 1));

    if (validating && step_ % options_.valid_every == 0) {
      validate();
      last_validated = step_;
      save_checkpoint();
      last_saved = step_;
      if (options_.patience > 0 && stalled_ >= options_.patience) {
        summary.reason = StopReason::early_stopping;
        break;
      }
    } else if (options_.save_every > 0 && step_ % options_.save_every == 0) {
      save_checkpoint();
      last_saved = step_;
    }
  }
  progress.finish();
  if (interval_tokens_ > 0) last_loss_ = interval_loss_ / interval_tokens_;
  if (summary.reason != StopReason::interrupted && validating && last_validated != step_ &&
      step_ > 0)
    validate();
  if (last_saved != step_ && step_ > 0) save_checkpoint();
  if (!validating && step_ > 0) save_best();  // without a dev set the last model is the model
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
