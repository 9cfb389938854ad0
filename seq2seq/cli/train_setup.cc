// The shared parts of `s2s train`: run folder, vocabulary, parameters, options, resume.
#include "seq2seq/cli/train_setup.h"

#include <filesystem>
#include <iostream>

#include "seq2seq/checkpoint.h"
#include "seq2seq/data/parallel_corpus.h"
#include "seq2seq/error.h"
#include "seq2seq/stop_signal.h"
#include "vocab/vocab.h"

namespace fs = std::filesystem;

namespace s2s::cli {

std::string prepare_vocab(Config& config, const TrainRun& run,
                          const std::vector<TrainingInput>& inputs) {
  const fs::path out(run.output);
  const std::string vocab_path = (out / "vocab.model").string();
  if (!run.init_from.empty()) {
    fs::copy_file(fs::path(run.init_from) / "vocab.model", vocab_path,
                  fs::copy_options::overwrite_existing);
  } else if (!config.get<std::string>("vocab.model").empty()) {
    fs::copy_file(config.get<std::string>("vocab.model"), vocab_path,
                  fs::copy_options::overwrite_existing);
  } else if (!fs::exists(vocab_path)) {
    SentencePieceOptions sp;
    const std::string type = config.get<std::string>("vocab.type");
    if (type == "unigram")
      sp.type = SentencePieceType::kUnigram;
    else if (type == "bpe")
      sp.type = SentencePieceType::kBpe;
    else if (type == "word")
      sp.type = SentencePieceType::kWord;
    else
      throw ConfigError("vocab.type must be unigram, bpe or word, got '" + type + "'");
    sp.vocab_size = config.get<int>("vocab.size");
    sp.character_coverage = config.get<double>("vocab.character_coverage");
    sp.max_sentences = static_cast<size_t>(config.get<int64_t>("vocab.max_sentences"));
    sp.seed = static_cast<uint64_t>(config.get<int64_t>("train.seed"));
    sp.skip_bad_lines = data::parse_on_bad_line(config.get<std::string>("data.on_bad_line")) ==
                        data::OnBadLine::skip;
    std::cerr << "training a " << type << " vocabulary of up to " << sp.vocab_size << " pieces on "
              << inputs.front().path << "\n";
    const auto stats = train_sentencepiece(inputs, sp, (out / "vocab").string());
    std::cerr << "vocabulary: " << stats.vocab_size << " pieces from " << stats.sentences
              << " sentences\n";
  }
  config.set("vocab.model", "vocab.model");  // as the model folder names it
  return vocab_path;
}

void prepare_parameters(const Config& config, const TrainRun& run,
                        const std::vector<Parameter*>& params, std::ostream& say) {
  if (!run.init_from.empty()) {
    load_parameters((fs::path(run.init_from) / "model.safetensors").string(), params);
    say << "initialised from " << run.init_from << "\n";
  }
  for (const std::string& prefix : config.get<std::vector<std::string>>("train.freeze")) {
    int frozen = 0;
    for (Parameter* p : params)
      if (p->name.rfind(prefix, 0) == 0) p->trainable = false, ++frozen;
    if (frozen == 0)
      throw ConfigError("train.freeze: no parameter name starts with '" + prefix + "'");
  }
}

data::BatcherOptions batcher_options(const Config& c) {
  data::BatcherOptions b;
  b.batch_tokens = c.get<int64_t>("data.batch_tokens");
  b.max_sentences = c.get<int64_t>("data.max_sentences");
  b.max_length = c.get<int64_t>("data.max_length");
  b.shuffle_buffer = c.get<int64_t>("data.shuffle_buffer");
  b.pool_size = c.get<int64_t>("data.pool_size");
  b.threads = c.get<int>("data.threads");
  b.seed = static_cast<uint64_t>(c.get<int64_t>("train.seed"));
  b.ids = {Vocab::kPad, Vocab::kBos, Vocab::kEos};
  return b;
}

TrainerOptions trainer_options(const Config& c, const std::string& output) {
  TrainerOptions t;
  t.optimizer.beta1 = c.get<double>("train.beta1");
  t.optimizer.beta2 = c.get<double>("train.beta2");
  t.optimizer.weight_decay = c.get<double>("train.weight_decay");
  t.schedule.kind = parse_schedule(c.get<std::string>("train.schedule"));
  t.schedule.learning_rate = c.get<double>("train.learning_rate");
  t.schedule.warmup_steps = c.get<int64_t>("train.warmup_steps");
  t.schedule.decay_factor = c.get<double>("train.decay_factor");
  t.schedule.decay_patience = c.get<int>("train.decay_patience");
  t.schedule.min_learning_rate = c.get<double>("train.min_learning_rate");
  t.clip_norm = c.get<double>("train.clip_norm");
  t.label_smoothing = c.get<double>("train.label_smoothing");
  t.max_steps = c.get<int64_t>("train.max_steps");
  t.max_epochs = c.get<int64_t>("train.max_epochs");
  t.max_minutes = c.get<double>("train.max_minutes");
  t.log_every = std::max<int64_t>(1, c.get<int64_t>("train.log_every"));
  t.valid_every = c.get<int64_t>("train.valid_every");
  t.save_every = c.get<int64_t>("train.save_every");
  t.patience = c.get<int>("train.patience");
  t.valid_metric = c.get<std::string>("train.valid_metric");
  t.keep_checkpoints = c.get<int>("train.keep_checkpoints");
  t.seed = static_cast<uint64_t>(c.get<int64_t>("train.seed"));
  t.output_dir = output;
  t.parallel.mode = parse_parallel_mode(c.get<std::string>("train.parallel.mode"));
  t.parallel.accumulate = c.get<int>("train.parallel.accumulate");
  t.parallel.staleness.max_staleness = c.get<int64_t>("train.parallel.max_staleness");
  t.parallel.staleness.policy =
      parse_stale_policy(c.get<std::string>("train.parallel.stale_policy"));
  t.parallel.bucket_mb = c.get<double>("train.parallel.bucket_mb");
  t.parallel.timeout = c.get<double>("train.parallel.timeout");
  return t;
}

int run_trainer(Trainer& trainer, const TrainRun& run, std::ostream& say) {
  if (run.resume) {
    // The newest checkpoint that loads; a damaged one (truncated by a full disk, edited by
    // hand) is reported and the one before it used.
    CheckpointStore store((fs::path(run.output) / "checkpoints").string());
    bool resumed = false;
    for (const std::string& folder : store.all()) {
      try {
        trainer.resume(folder);
        resumed = true;
        break;
      } catch (const Error& e) {
        say << "s2s train: warning: checkpoint " << folder << " is unusable (" << e.what()
            << "); trying the one before it\n";
      }
    }
    if (!resumed) throw InputError("--resume: no usable checkpoint in '" + run.output + "'");
  }
  install_stop_handlers();
  const TrainingSummary summary = trainer.run();
  say << "s2s train: " << summary.steps << " steps, " << stop_reason_name(summary.reason);
  if (!summary.best_model.empty()) say << "; model in " << summary.best_model;
  say << "\n";
  return 0;
}

}  // namespace s2s::cli
