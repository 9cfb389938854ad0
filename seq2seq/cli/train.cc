// `s2s train --recipe FILE --output DIR`: trains a model of the recipe's task — translation from
// a parallel corpus here, captioning in train_caption.cc: a SentencePiece vocabulary (unless the
// recipe names one), then the encoder-decoder, writing the best model to DIR/model and
// checkpoints to DIR/checkpoints. --resume continues an interrupted run exactly; --init-from
// starts from a trained model (fine-tuning).
#include <filesystem>
#include <iostream>

#include "seq2seq/bleu.h"
#include "seq2seq/checkpoint.h"
#include "seq2seq/cli/command.h"
#include "seq2seq/cli/recipe.h"
#include "seq2seq/cli/train_setup.h"
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
  const std::string task = config.get<std::string>("task");
  if (task != "translate" && task != "caption")
    throw ConfigError("task must be translate or caption, got '" + task + "'");
  for (const char* key : {"data.train", "data.valid", "vocab.model", "data.image_dir"}) {
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

  TrainRun run;
  run.output = output;
  run.init_from = init_from;
  run.resume = values["resume"].as<bool>();
  run.device = device;
  const bool resume = run.resume;
  const fs::path out(output);
  CheckpointStore store((out / "checkpoints").string());
  if (!resume && !store.latest().empty())
    throw ConfigError("'" + output + "' already holds a training run (" + store.latest() +
                      "): pass --resume to continue it, or choose another --output");
  if (resume && store.all().empty())
    throw ConfigError("--resume: '" + output + "' has no checkpoint to continue from");
  fs::create_directories(out);

  if (task == "caption") return train_caption(config, run);

  std::vector<TrainingInput> inputs;
  if (train_paths.size() == 1)
    inputs = {{train_paths[0], TrainingInput::kSource}, {train_paths[0], TrainingInput::kTarget}};
  else
    inputs = {{train_paths[0], TrainingInput::kWholeLine},
              {train_paths[1], TrainingInput::kWholeLine}};
  const std::string vocab_path = prepare_vocab(config, run, inputs);
  auto vocab = std::make_shared<Vocab>(Vocab::load(vocab_path));

  TranslationModel model = TranslationModel::build(config, vocab, device);
  prepare_parameters(config, run, model.parameters());

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
    hooks.validation_score = [&] {
      return corpus_bleu(translate_lines(model, valid_sources, translate), {valid_targets}).score;
    };
  TrainerOptions trainer_opts = trainer_options(config, output);
  if (valid_sources.empty() && trainer_opts.valid_metric == "bleu")
    trainer_opts.valid_metric = "perplexity";
  Trainer trainer(*model.encoder, *model.decoder, train, std::move(valid_batches), trainer_opts,
                  hooks);
  return run_trainer(trainer, run);
}

}  // namespace s2s::cli
