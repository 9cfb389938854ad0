// train(): the training pipeline of every front end — checks, the run folder, the parallel
// setup, then the task's job (translation here, captions in train_caption.cc).
#include "seq2seq/api/training.h"

#include <filesystem>
#include <iostream>

#include "seq2seq/api/recipe.h"
#include "seq2seq/api/train_setup.h"
#include "seq2seq/api/translation_model.h"
#include "seq2seq/api/translation_search.h"
#include "seq2seq/bleu.h"
#include "seq2seq/checkpoint.h"
#include "seq2seq/cuda_backend.h"
#include "seq2seq/data/batcher.h"
#include "seq2seq/data/parallel_corpus.h"
#include "seq2seq/runtime.h"
#include "seq2seq/train/communicator.h"
#include "seq2seq/train/trainer.h"
#include "vocab/trainer.h"

namespace fs = std::filesystem;

namespace s2s::api {
namespace {

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

// The replica count of async mode and the communicator of sync mode, checked against the
// launcher: N processes of a run that is not sync would all write the same output folder.
int replica_count(const Config& c, ParallelMode mode) {
  const int replicas = c.get<int>("train.parallel.replicas");
  if (replicas < 0)
    throw ConfigError("train.parallel.replicas must be >= 0, got " + std::to_string(replicas));
  const int launched = launcher_world_size();
  if (mode != ParallelMode::sync && launched > 1)
    throw ConfigError("started as " + std::to_string(launched) +
                      " processes (mpirun) but train.parallel.mode is " +
                      c.get<std::string>("train.parallel.mode") +
                      ": set --train.parallel.mode sync, or start one process");
  if (mode == ParallelMode::sync && replicas != 0 && launched > 0 && replicas != launched)
    throw ConfigError("train.parallel.replicas is " + std::to_string(replicas) +
                      " but mpirun started " + std::to_string(launched) +
                      " processes (0 = take mpirun's)");
  return mode == ParallelMode::async ? (replicas == 0 ? 2 : replicas) : 1;
}

// The communicator of sync mode (train.parallel.transport): NCCL for a model on a GPU, one
// process per GPU, bootstrapped by MPI; MPI for a model on the CPU. A transport this build lacks,
// or one that cannot carry the device's buffers, is a ConfigError saying what to change.
std::unique_ptr<Communicator> sync_communicator(const Config& c, Device device) {
  const std::string transport = c.get<std::string>("train.parallel.transport");
  if (transport != "auto" && transport != "mpi" && transport != "nccl")
    throw ConfigError("train.parallel.transport must be auto, mpi or nccl, got '" + transport +
                      "'");
  const double timeout = c.get<double>("train.parallel.timeout");
  const bool nccl = transport == "nccl" || (transport == "auto" && device.is_cuda());
  if (!nccl) {
    if (device.is_cuda())
      throw ConfigError(
          "train.parallel.transport mpi sums CPU buffers, but train.device is " + device.str() +
          ": use --train.parallel.transport nccl (or auto) for GPUs, or --train.device cpu");
    return make_mpi_communicator(timeout);
  }
  if (device.is_cpu())
    throw ConfigError(
        "train.parallel.transport nccl sums CUDA buffers, but train.device is cpu: set "
        "--train.device cuda (one process per GPU), or --train.parallel.transport mpi");
  if (!cuda::built())
    throw ConfigError(
        "train.parallel.transport nccl needs CUDA, but this s2s was built without CUDA: "
        "reconfigure with -DS2S_CUDA=ON (needs nvcc and NCCL), or train on the CPU with "
        "--train.device cpu");
  if (!mpi_available())
    throw ConfigError(
        "train.parallel.transport nccl is started by MPI (mpirun, and the NCCL id travels over "
        "it), but this s2s was built without MPI: install libopenmpi-dev "
        "(scripts/install-deps.sh) and configure with -DS2S_MPI=ON");
  // "cuda": each rank takes the GPU of its local rank; "cuda:N" pins this process to N.
  const bool pinned = c.get<std::string>("train.device") != "cuda";
  return make_nccl_communicator(make_mpi_communicator(timeout), timeout,
                                pinned ? device.index : -1);
}

TrainSummary train_job(Config& config, const TrainRun& run, const TrainCallbacks& callbacks,
                       std::unique_ptr<Communicator>& comm) {
  const std::string task = config.get<std::string>("task");
  if (task != "translate" && task != "caption")
    throw ConfigError("task must be translate or caption, got '" + task + "'");
  const std::string& output = run.output;
  if (output.empty()) throw ConfigError("train: no output folder given (--output DIR)");
  const std::vector<std::string> train_paths = corpus_paths(config, "data.train");
  if (train_paths.front().empty())
    throw ConfigError("data.train is not set: name the training corpus in the recipe");
  // Every train.* value is checked now, before anything is written.
  TrainerOptions trainer_opts = trainer_options(config, output);
  check_trainer_options(trainer_opts);
  const ParallelMode mode = trainer_opts.parallel.mode;
  const int replicas = replica_count(config, mode);
  // N replica threads share the math threads, so that they do not oversubscribe the cores (and
  // single-threaded OpenBLAS calls run in the calling thread, never queued on a shared pool).
  // Likewise N workers: each computes its shard with train.threads / N math threads.
  const int workers = trainer_opts.workers;  // 0 resolved by trainer_options
  if (task == "caption" && workers != 1)
    throw ConfigError(
        "train.workers must be 1 for captions: a shard's batch norm statistics "
        "would differ from the whole batch's");
  set_num_threads(std::max(1, config.get<int>("train.threads") / replicas / workers));
  Device device = Device::parse(config.get<std::string>("train.device"));
  if (mode == ParallelMode::sync) {
    comm = sync_communicator(config, device);
    device = comm->device().is_cuda() ? comm->device() : device;  // NCCL: this rank's GPU
    if (trainer_opts.parallel.stages == 4 && config.get<int>("encoder.layers") < 2)
      throw ConfigError(
          "train.parallel.model.stages 4 splits the encoder after its first layer: it needs "
          "encoder.layers 2 or more, got " +
          std::to_string(config.get<int>("encoder.layers")));
    if (trainer_opts.parallel.stages >= 3 && config.get<bool>("decoder.tie_embeddings"))
      throw ConfigError(
          "train.parallel.model.stages 3 or 4 put the output layer on a stage of its own, but "
          "decoder.tie_embeddings shares its weight with the target embedding: set one of them "
          "otherwise");
    if (trainer_opts.parallel.stages > 1 && comm->size() % trainer_opts.parallel.stages != 0)
      throw ConfigError("train.parallel.model.stages " +
                        std::to_string(trainer_opts.parallel.stages) +
                        " needs a multiple of that many ranks (one a stage, per replica), got " +
                        std::to_string(comm->size()));
  }
  const bool root = !comm || comm->rank() == 0;
  RunContext context;
  context.run = run;
  context.device = device;
  context.callbacks = &callbacks;
  const Say to_caller = callbacks.on_message
                            ? callbacks.on_message
                            : Say([](const std::string& line) { std::cerr << line << "\n"; });
  context.say = root ? to_caller : Say([](const std::string&) {});  // the other ranks keep quiet

  const fs::path out(output);
  CheckpointStore store((out / "checkpoints").string());
  if (!run.resume && !store.latest().empty())
    throw ConfigError("'" + output + "' already holds a training run (" + store.latest() +
                      "): pass --resume to continue it, or choose another --output");
  if (run.resume && store.all().empty())
    throw ConfigError("--resume: '" + output + "' has no checkpoint to continue from");
  if (comm) comm->sum_scalars({0.0});  // every rank has checked the folder before rank 0 writes
  if (root) fs::create_directories(out);
  TrainSummary summary;
  summary.root = root;
  if (task == "caption") {
    if (mode != ParallelMode::none)
      throw ConfigError("train.parallel.mode " + config.get<std::string>("train.parallel.mode") +
                        " is for translation; the caption job trains in one process");
    static_cast<TrainingSummary&>(summary) = train_caption(config, context);
    return summary;
  }
  // The vocabulary: the recipe's, the initial model's, this run's (resume), or trained now;
  // in sync mode rank 0 writes it and the others wait for it.
  std::vector<TrainingInput> inputs;
  if (train_paths.size() == 1)
    inputs = {{train_paths[0], TrainingInput::kSource}, {train_paths[0], TrainingInput::kTarget}};
  else
    inputs = {{train_paths[0], TrainingInput::kWholeLine},
              {train_paths[1], TrainingInput::kWholeLine}};
  std::string vocab_path = (out / "vocab.model").string();
  if (root) vocab_path = prepare_vocab(config, context, inputs);
  if (comm) comm->sum_scalars({0.0}, 3600);  // rank 0's vocabulary is written (may be trained)
  config.set("vocab.model", "vocab.model");  // as the model folder names it
  auto vocab = std::make_shared<Vocab>(Vocab::load(vocab_path));

  TranslationModel model = TranslationModel::build(config, vocab, device);
  prepare_parameters(config, context, model.parameters());

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
  TranslateSettings translate = translate_settings(config);
  translate.search.beam_size = 1;
  translate.search.length_penalty = 0;
  translate.search.coverage_penalty = 0;
  if (!valid_sources.empty() && root)
    hooks.validation_score = [&] {
      return corpus_bleu(translate_lines(model, valid_sources, translate), {valid_targets}).score;
    };
  if ((valid_sources.empty() || !root) && trainer_opts.valid_metric == "bleu")
    trainer_opts.valid_metric = "perplexity";
  connect_callbacks(hooks, context, "translate");
  Trainer trainer(*model.encoder, *model.decoder, train, std::move(valid_batches), trainer_opts,
                  hooks);
  std::vector<TranslationModel> replica_models, worker_models;
  for (int w = 1; w < trainer_opts.workers; ++w) {
    worker_models.push_back(TranslationModel::build(config, vocab, device));
    trainer.add_worker(*worker_models.back().encoder, *worker_models.back().decoder);
  }
  if (trainer_opts.workers > 1)
    context.say("each batch in " + std::to_string(trainer_opts.workers) + " shards on worker " +
                "threads, " + std::to_string(num_threads()) + " math thread" +
                (num_threads() == 1 ? "" : "s") + " each");
  if (mode == ParallelMode::sync) {
    trainer.set_communicator(comm.get());
    if (trainer_opts.parallel.stages == 1)
      context.say("sync data parallelism: " + comm->describe());
  } else if (mode == ParallelMode::async) {
    for (int r = 0; r < replicas; ++r) {
      replica_models.push_back(TranslationModel::build(config, vocab, device));
      trainer.add_replica(*replica_models.back().encoder, *replica_models.back().decoder);
    }
    context.say("async training: " + std::to_string(replicas) + " replica threads, " +
                std::to_string(num_threads()) + " math thread" + (num_threads() == 1 ? "" : "s") +
                " each");
  }
  static_cast<TrainingSummary&>(summary) = run_trainer(trainer, context);
  return summary;
}

}  // namespace

TrainSummary train(Config recipe, const TrainRun& run, const TrainCallbacks& callbacks) {
  // In sync mode an error on one rank ends every rank (MPI_Abort) with its message, instead of
  // leaving the others waiting for it until the timeout.
  std::unique_ptr<Communicator> comm;
  try {
    return train_job(recipe, run, callbacks, comm);
  } catch (const Error& e) {
    if (comm && comm->size() > 1) comm->abort(e.what());
    throw;
  }
}

}  // namespace s2s::api
