// Caption training (`s2s train` with `task: caption`): the references (COCO JSON or TSV) become
// `image path<TAB>caption` pairs in the run folder, one per caption; the Batcher packs them like
// sentence pairs, with the image's index as its one-token source, and the trainer's load_source
// hook turns those indices into pixels (augmented in training). A word vocabulary is trained on
// the normalized captions unless the recipe names one. Validation: loss, and BLEU-4 / CIDEr-D of
// greedy captions of the dev images. Internal to api/ (training.h is the interface).
#include <filesystem>
#include <unordered_map>

#include "seq2seq/api/caption_model.h"
#include "seq2seq/api/recipe.h"
#include "seq2seq/api/train_setup.h"
#include "seq2seq/atomic_file.h"
#include "seq2seq/caption_metrics.h"
#include "seq2seq/data/caption_corpus.h"
#include "seq2seq/error.h"
#include "vocab/normalizer.h"
#include "vocab/trainer.h"

namespace fs = std::filesystem;

namespace s2s::api {

namespace {

// The image table and the pairs file of one split.
struct CaptionSplit {
  std::vector<data::CaptionedImage> images;
  std::string pairs_path;  // `image path<TAB>normalized caption`
};

CaptionSplit prepare_split(const std::string& path, const std::string& image_dir,
                           const std::string& pairs_path) {
  data::CaptionReadOptions read;
  read.image_dir = image_dir;
  CaptionSplit split;
  split.images = data::read_captions(path, read);
  if (split.images.empty()) throw InputError("'" + path + "' names no captioned image");
  std::string text;
  for (const data::CaptionedImage& image : split.images) {
    if (image.path.find_first_of("\t\n\r") != std::string::npos)
      throw InputError("'" + path + "': the image path '" + image.path +
                       "' has a tab or line break, which the caption pairs cannot hold");
    for (const std::string& caption : image.captions) {
      const std::string normalized = normalize_caption(caption);
      if (normalized.empty()) continue;
      text += image.path + "\t" + normalized + "\n";
    }
  }
  write_file_atomically(pairs_path, text);
  split.pairs_path = pairs_path;
  return split;
}

}  // namespace

TrainingSummary train_caption(Config& config, const RunContext& context) {
  const TrainRun& run = context.run;
  const fs::path out(run.output);
  const std::string image_dir = config.get<std::string>("data.image_dir");
  const CaptionSplit train_split = prepare_split(config.get<std::string>("data.train"), image_dir,
                                                 (out / "train.captions.tsv").string());
  CaptionSplit valid_split;
  if (!config.get<std::string>("data.valid").empty())
    valid_split = prepare_split(config.get<std::string>("data.valid"), image_dir,
                                (out / "valid.captions.tsv").string());
  context.say("captions: " + std::to_string(train_split.images.size()) + " train images" +
              (valid_split.images.empty()
                   ? std::string()
                   : ", " + std::to_string(valid_split.images.size()) + " dev images"));

  const std::string vocab_path =
      prepare_vocab(config, context, {{train_split.pairs_path, TrainingInput::kTarget}});
  auto vocab = std::make_shared<Vocab>(Vocab::load(vocab_path));
  CaptionModel model = CaptionModel::build(config, vocab, context.device);
  prepare_parameters(config, context, model.parameters());

  // Image paths -> indices: train images first, then dev images.
  std::vector<std::string> paths;
  std::unordered_map<std::string, int32_t> index;
  const CaptionSplit* splits[] = {&train_split, &valid_split};
  for (const CaptionSplit* split : splits)
    for (const data::CaptionedImage& image : split->images)
      if (index.emplace(image.path, static_cast<int32_t>(paths.size())).second)
        paths.push_back(image.path);
  auto encode_image = [&index](const std::string& path) {
    const auto it = index.find(path);
    S2S_CHECK(it != index.end(), "caption pairs: unknown image '", path, "'");
    return std::vector<int32_t>{it->second};
  };
  auto encode_caption = [vocab](const std::string& text) { return vocab->encode(text); };

  const data::BatcherOptions batching = batcher_options(config);
  if (batching.oversample.times > 1)
    throw ConfigError(
        "data.oversample: the rule reads source text, which the caption task "
        "does not have (set data.oversample.times to 1)");
  const std::vector<std::string> train_pairs = {train_split.pairs_path};
  data::Batcher train(
      [train_pairs](int64_t) { return std::make_unique<data::ParallelCorpus>(train_pairs); },
      encode_image, encode_caption, batching);
  std::vector<data::Batch> valid_batches;
  if (!valid_split.images.empty()) {
    data::BatcherOptions in_order = batching;
    in_order.in_order = true;
    in_order.shuffle = false;
    const std::vector<std::string> valid_pairs = {valid_split.pairs_path};
    data::Batcher valid(
        [valid_pairs](int64_t) { return std::make_unique<data::ParallelCorpus>(valid_pairs); },
        encode_image, encode_caption, in_order);
    data::Batch batch;
    while (valid.next(batch))
      valid_batches.push_back(batch);
  }

  const ImageOptions image = image_options(config);
  const ImageAugmentation augmentation = image_augmentation(config);
  const uint64_t seed = static_cast<uint64_t>(config.get<int64_t>("train.seed"));
  TrainerHooks hooks;
  hooks.config_yaml = config.to_yaml();
  hooks.model_files = {{"vocab.model", vocab_path}};
  // A frozen ONNX network travels with the model: its weights are not parameters.
  const std::string onnx = config.get<std::string>("image_encoder.onnx");
  if (!onnx.empty()) {
    hooks.model_files.emplace_back("image_encoder.onnx", onnx);
    config.set("image_encoder.onnx", "image_encoder.onnx");  // as the model folder names it
    hooks.config_yaml = config.to_yaml();
  }
  // Pixels for the image indices of a batch; augmentation draws from a stream of the step, so a
  // resumed run sees the same crops.
  hooks.load_source = [&](const data::Batch& batch, int64_t step, bool training) {
    std::vector<std::string> batch_paths;
    const int32_t* ids = batch.source.data<int32_t>();
    for (int64_t j = 0; j < batch.size(); ++j)
      batch_paths.push_back(paths[ids[j]]);
    std::vector<std::string> errors;
    Rng rng = Rng(seed).split(1000).split(static_cast<uint64_t>(step));
    Tensor pixels = training && augmentation.enabled()
                        ? load_image_batch(batch_paths, image, errors, augmentation, &rng)
                        : load_image_batch(batch_paths, image, errors);
    for (const std::string& e : errors)
      if (!e.empty()) throw InputError("training image: " + e);
    return pixels;
  };
  // Dev captions, greedy (the path `s2s caption` takes, at beam 1): BLEU-4 and CIDEr-D against
  // every reference.
  const std::string valid_metric = config.get<std::string>("train.valid_metric");
  if (!valid_split.images.empty()) {
    // CIDEr-D (x100, as papers print it) unless the recipe ranks by BLEU-4.
    hooks.validation_score_name = valid_metric == "bleu" ? "bleu" : "cider";
    hooks.validation_score = [&]() {
      model.set_training(false);
      BeamSearchOptions greedy = caption_search_options(config);
      greedy.beam_size = 1;
      greedy.length_penalty = 0;
      std::vector<std::string> hypotheses;
      std::vector<std::vector<std::string>> references;
      const size_t batch_size = static_cast<size_t>(config.get<int64_t>("caption.batch_size"));
      for (size_t begin = 0; begin < valid_split.images.size(); begin += batch_size) {
        const size_t end = std::min(valid_split.images.size(), begin + batch_size);
        std::vector<std::string> batch_paths;
        for (size_t i = begin; i < end; ++i) {
          batch_paths.push_back(valid_split.images[i].path);
          references.push_back(valid_split.images[i].captions);
        }
        std::vector<std::string> errors;
        const Tensor pixels = load_image_batch(batch_paths, image, errors);
        for (const std::vector<Hypothesis>& found : caption_search(model, pixels, greedy))
          hypotheses.push_back(found.empty() ? std::string() : vocab->decode(found[0].tokens));
      }
      const CaptionScores scores = score_captions(hypotheses, references);
      return valid_metric == "bleu" ? 100.0 * scores.bleu.bleu[3] : 100.0 * scores.cider.score;
    };
  }
  TrainerOptions trainer_opts = trainer_options(config, run.output);
  if (valid_split.images.empty() && trainer_opts.valid_metric != "perplexity")
    trainer_opts.valid_metric = "perplexity";
  connect_callbacks(hooks, context, "caption");
  Trainer trainer(*model.encoder, *model.decoder, train, std::move(valid_batches), trainer_opts,
                  hooks);
  return run_trainer(trainer, context);
}

}  // namespace s2s::api
