// `s2s train --recipe FILE --output DIR`: trains a translation model from a parallel corpus:
// a SentencePiece vocabulary (unless the recipe names one), then the encoder-decoder, writing
// the best model to DIR/model and checkpoints to DIR/checkpoints. --resume continues an
// interrupted run exactly; --init-from starts from a trained model (fine-tuning).
#include <filesystem>
#include <iostream>

#include "seq2seq/bleu.h"
#include "seq2seq/checkpoint.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/cli/recipe.h"
#include "seq2seq/cli/translation_model.h"
#include "seq2seq/cli/translator.h"
#include "seq2seq/data/batcher.h"
#include "seq2seq/runtime.h"
#include "seq2seq/stop_signal.h"
#include "seq2seq/train/trainer.h"
#include "vocab/trainer.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace s2s::cli {
namespace {

bool overridden(const Overrides& overrides, const std::string& key) {
  for (const auto& [k, v] : overrides)
    if (k == key) return true;
  return false;
}

// A corpus key: one TSV path, or a list of two aligned files (source, target).
std::vector<std::string> corpus_paths(const Config& config, const std::string& key) {
  std::vector<std::string> paths;
  try {
    paths = {config.get<std::string>(key)};
  } catch (const ConfigError&) {
    paths = config.get<std::vector<std::string>>(key);
    if (paths.size() != 2)
      throw ConfigError(key + " must be one TSV file or a list of two aligned files, got " +
                        std::to_string(paths.size()) + " files");
  }
  return paths;
}

// Source and target sides of a TSV corpus, for BLEU.
void read_pairs(const std::vector<std::string>& paths, std::vector<std::string>& sources,
                std::vector<std::string>& targets) {
  data::CorpusOptions options;
  options.report = [](const data::BadLine&) {};  // reported when the batches are read
  data::ParallelCorpus corpus(paths, options);
  data::SentencePair pair;
  while (corpus.next(pair)) {
    sources.push_back(pair.source);
    targets.push_back(pair.target);
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
  return t;
}

}  // namespace

int run_train(int argc, char** argv) {
  Overrides overrides = take_overrides(argc, argv);
  po::options_description options("Options");
  std::string recipe, output, init_from;
  options.add_options()("recipe,r", po::value(&recipe),
                        "the recipe (YAML); keys can be overridden "
                        "as --group.key VALUE, e.g. --train.max_steps 500")(
      "output,o", po::value(&output), "output folder: model/ (the best model), checkpoints/")(
      "resume", po::bool_switch(), "continue the run saved in the output folder")(
      "init-from", po::value(&init_from), "start from this trained model (and its vocabulary)")(
      "dump-config", po::bool_switch(), "print the effective recipe and exit");
  po::variables_map values;
  if (!parse_options("train", "--recipe FILE --output DIR [--group.key VALUE...] [OPTIONS]",
                     options, argc, argv, values))
    return 0;
  Config config = load_recipe(recipe, overrides);
  for (const char* key : {"data.train", "data.valid", "vocab.model"}) {
    if (overridden(overrides, key)) continue;  // command-line paths are relative to the shell
    std::vector<std::string> paths = corpus_paths(config, key);
    std::string yaml = "[";
    for (size_t i = 0; i < paths.size(); ++i)
      yaml += (i ? ", \"" : "\"") + resolve_path(recipe, paths[i]) + "\"";
    config.set(key, paths.size() == 1 ? yaml.substr(1) : yaml + "]");
  }
  if (values["dump-config"].as<bool>()) {
    std::cout << config.to_yaml();
    return 0;
  }
  if (output.empty()) throw UsageError("s2s train: --output DIR is required");
  const std::vector<std::string> train_paths = corpus_paths(config, "data.train");
  if (train_paths.front().empty())
    throw ConfigError("data.train is not set: name the training corpus in the recipe");
  set_num_threads(config.get<int>("train.threads"));
  const Device device = Device::parse(config.get<std::string>("train.device"));

  const bool resume = values["resume"].as<bool>();
  const fs::path out(output);
  CheckpointStore store((out / "checkpoints").string());
  if (!resume && !store.latest().empty())
    throw ConfigError("'" + output + "' already holds a training run (" + store.latest() +
                      "): pass --resume to continue it, or choose another --output");
  if (resume && store.all().empty())
    throw ConfigError("--resume: '" + output + "' has no checkpoint to continue from");
  fs::create_directories(out);

  // The vocabulary: the recipe's, the initial model's, this run's (resume), or trained now.
  std::string vocab_path = (out / "vocab.model").string();
  if (!init_from.empty()) {
    fs::copy_file(fs::path(init_from) / "vocab.model", vocab_path,
                  fs::copy_options::overwrite_existing);
  } else if (!config.get<std::string>("vocab.model").empty()) {
    fs::copy_file(config.get<std::string>("vocab.model"), vocab_path,
                  fs::copy_options::overwrite_existing);
  } else if (!fs::exists(vocab_path)) {
    SentencePieceOptions sp;
    sp.type = config.get<std::string>("vocab.type") == "bpe" ? SentencePieceType::kBpe
                                                             : SentencePieceType::kUnigram;
    sp.vocab_size = config.get<int>("vocab.size");
    sp.character_coverage = config.get<double>("vocab.character_coverage");
    sp.max_sentences = static_cast<size_t>(config.get<int64_t>("vocab.max_sentences"));
    sp.seed = static_cast<uint64_t>(config.get<int64_t>("train.seed"));
    sp.skip_bad_lines = data::parse_on_bad_line(config.get<std::string>("data.on_bad_line")) ==
                        data::OnBadLine::skip;
    std::cerr << "training a " << sp.vocab_size << "-piece vocabulary on " << train_paths.front()
              << "\n";
    std::vector<TrainingInput> inputs;
    if (train_paths.size() == 1)
      inputs = {{train_paths[0], TrainingInput::kSource}, {train_paths[0], TrainingInput::kTarget}};
    else
      inputs = {{train_paths[0], TrainingInput::kWholeLine},
                {train_paths[1], TrainingInput::kWholeLine}};
    const auto stats = train_sentencepiece(inputs, sp, (out / "vocab").string());
    std::cerr << "vocabulary: " << stats.vocab_size << " pieces from " << stats.sentences
              << " sentences\n";
  }
  config.set("vocab.model", "vocab.model");  // as the model folder names it
  auto vocab = std::make_shared<Vocab>(Vocab::load(vocab_path));

  TranslationModel model = TranslationModel::build(config, vocab, device);
  std::vector<Parameter*> params = model.parameters();
  if (!init_from.empty()) {
    load_parameters((fs::path(init_from) / "model.safetensors").string(), params);
    std::cerr << "initialised from " << init_from << "\n";
  }
  for (const std::string& prefix : config.get<std::vector<std::string>>("train.freeze")) {
    int frozen = 0;
    for (Parameter* p : params)
      if (p->name.rfind(prefix, 0) == 0) p->trainable = false, ++frozen;
    if (frozen == 0)
      throw ConfigError("train.freeze: no parameter name starts with '" + prefix + "'");
  }

  const data::BatcherOptions batching = batcher_options(config);
  const data::OnBadLine on_bad_line =
      data::parse_on_bad_line(config.get<std::string>("data.on_bad_line"));
  auto encode = [vocab](const std::string& text) { return vocab->encode(text); };
  data::Batcher train(
      [train_paths, on_bad_line](int64_t epoch) {
        data::CorpusOptions c;
        c.on_bad_line = on_bad_line;
        if (epoch > 0) c.report = [](const data::BadLine&) {};  // reported in the first epoch
        return std::make_unique<data::ParallelCorpus>(train_paths, c);
      },
      encode, encode, batching);

  std::vector<data::Batch> valid_batches;
  std::vector<std::string> valid_sources, valid_targets;
  const std::vector<std::string> valid_paths = corpus_paths(config, "data.valid");
  if (!valid_paths.front().empty()) {
    data::BatcherOptions in_order = batching;
    in_order.in_order = true;
    in_order.shuffle = false;
    data::Batcher valid(
        [valid_paths](int64_t) { return std::make_unique<data::ParallelCorpus>(valid_paths); },
        encode, encode, in_order);
    data::Batch batch;
    while (valid.next(batch))
      valid_batches.push_back(batch);
    read_pairs(valid_paths, valid_sources, valid_targets);
  }

  TrainerHooks hooks;
  hooks.config_yaml = config.to_yaml();
  hooks.model_files = {{"vocab.model", vocab_path}};
  // Validation BLEU decodes greedily: it only has to rank checkpoints, and a beam would cost
  // several times the decoding time at every validation.
  TranslateOptions translate = translate_options(config);
  translate.search.beam_size = 1;
  translate.search.length_penalty = 0;
  translate.search.coverage_penalty = 0;
  if (!valid_sources.empty())
    hooks.validation_bleu = [&] {
      return corpus_bleu(translate_lines(model, valid_sources, translate), {valid_targets}).score;
    };
  TrainerOptions trainer_opts = trainer_options(config, output);
  if (valid_sources.empty() && trainer_opts.valid_metric == "bleu")
    trainer_opts.valid_metric = "perplexity";
  Trainer trainer(*model.encoder, *model.decoder, train, std::move(valid_batches), trainer_opts,
                  hooks);
  if (resume) {
    // The newest checkpoint that loads; a damaged one (truncated by a full disk, edited by
    // hand) is reported and the one before it used.
    bool resumed = false;
    for (const std::string& folder : store.all()) {
      try {
        trainer.resume(folder);
        resumed = true;
        break;
      } catch (const Error& e) {
        std::cerr << "s2s train: warning: checkpoint " << folder << " is unusable (" << e.what()
                  << "); trying the one before it\n";
      }
    }
    if (!resumed) throw InputError("--resume: no usable checkpoint in '" + output + "'");
  }
  install_stop_handlers();
  const TrainingSummary summary = trainer.run();
  std::cerr << "s2s train: " << summary.steps << " steps, " << stop_reason_name(summary.reason);
  if (!summary.best_model.empty()) std::cerr << "; model in " << summary.best_model;
  std::cerr << "\n";
  return 0;
}

}  // namespace s2s::cli
