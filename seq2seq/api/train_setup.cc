// The shared parts of every training job: run folder, vocabulary, parameters, resume.
#include "seq2seq/api/train_setup.h"

#include <filesystem>
#include <memory>

#include "seq2seq/api/run_log.h"
#include "seq2seq/checkpoint.h"
#include "seq2seq/data/parallel_corpus.h"
#include "seq2seq/error.h"
#include "seq2seq/host_allocator.h"
#include "vocab/vocab.h"

namespace fs = std::filesystem;

namespace s2s::api {

std::string prepare_vocab(Config& config, const RunContext& context,
                          const std::vector<TrainingInput>& inputs) {
  const TrainRun& run = context.run;
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
    context.say("training a " + type + " vocabulary of up to " + std::to_string(sp.vocab_size) +
                " pieces on " + inputs.front().path);
    const auto stats = train_sentencepiece(inputs, sp, (out / "vocab").string());
    context.say("vocabulary: " + std::to_string(stats.vocab_size) + " pieces from " +
                std::to_string(stats.sentences) + " sentences");
    // SentencePiece's hundreds of MiB of small blocks are free now, but malloc would keep them
    // for the whole training run (in the de-en hour recipe 167 MiB of a 197 MiB heap).
    host_allocator::trim_heap();
  }
  config.set("vocab.model", "vocab.model");  // as the model folder names it
  return vocab_path;
}

void prepare_parameters(const Config& config, const RunContext& context,
                        const std::vector<Parameter*>& params) {
  const TrainRun& run = context.run;
  if (!run.init_from.empty()) {
    load_parameters((fs::path(run.init_from) / "model.safetensors").string(), params);
    context.say("initialised from " + run.init_from);
  }
  for (const std::string& prefix : config.get<std::vector<std::string>>("train.freeze")) {
    int frozen = 0;
    for (Parameter* p : params)
      if (p->name.rfind(prefix, 0) == 0) p->trainable = false, ++frozen;
    if (frozen == 0)
      throw ConfigError("train.freeze: no parameter name starts with '" + prefix + "'");
  }
}

void connect_callbacks(TrainerHooks& hooks, const RunContext& context, const std::string& task) {
  // Every record also goes to RUN/log.jsonl, for the server's runs page and `s2s plot`.
  auto run_log = std::make_shared<RunLogWriter>(context.run.output, task);
  std::function<void(const TrainLogRecord&)> on_log;
  if (context.callbacks) {
    hooks.should_stop = context.callbacks->should_stop;
    on_log = context.callbacks->on_log;
  }
  if (on_log) hooks.log = [](const std::string&) {};  // the records carry the lines
  hooks.on_record = [run_log, on_log](const TrainLogRecord& record) {
    run_log->write(record);
    if (on_log) on_log(record);
  };
}

TrainingSummary run_trainer(Trainer& trainer, const RunContext& context) {
  const TrainRun& run = context.run;
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
        context.say("s2s train: warning: checkpoint " + folder + " is unusable (" + e.what() +
                    "); trying the one before it");
      }
    }
    if (!resumed) throw InputError("--resume: no usable checkpoint in '" + run.output + "'");
  }
  return trainer.run();
}

}  // namespace s2s::api
