// Recipe defaults, merging, validation, path resolution, and the components' typed options.
#include "seq2seq/api/recipe.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "seq2seq/error.h"
#include "seq2seq/random.h"
#include "vocab/vocab.h"

namespace s2s::api {

const std::string& default_recipe() {
  static const std::string text = R"(# s2s recipe defaults: every key a recipe may set.
task: translate           # translate (text -> text) | caption (image -> text)
data:
  train: ""               # translate: a TSV file (source<TAB>target); caption: COCO JSON or TSV
  valid: ""               # dev set, same format: validation loss and BLEU ("" = none)
  image_dir: ""           # caption: image paths are relative to it ("" = to the caption file)
  on_bad_line: skip       # skip | fail: what a malformed corpus line does
  max_length: 100         # longer pairs (in pieces) are dropped from training
  batch_tokens: 4096      # padded target tokens per batch
  max_sentences: 0        # sentences per batch cap (0 = none)
  shuffle_buffer: 100000  # examples shuffled together while streaming
  pool_size: 20000        # examples sorted by length together before batching
  threads: 1              # threads encoding text to pieces
  oversample:             # translate: pairs matching every condition are repeated each epoch
    times: 1              # copies per epoch (1 = off)
    min_source_words: 0   # source has at least this many space-separated words (0 = any)
    source_ends_with: []  # source ends with one of these strings, e.g. [".", "?", "!"] ([] = any)
vocab:
  model: ""               # an existing SentencePiece model to use instead of training one
  size: 8000              # pieces, special ones included
  type: unigram           # unigram | bpe | word (caption text: normalized words)
  character_coverage: 1.0 # 1.0 for alphabetic scripts, 0.9995 for CJK
  max_sentences: 2000000  # training sample
encoder:
  embed_size: 256
  hidden_size: 256        # per direction of the bidirectional bottom layer
  layers: 2               # 1 bidirectional + (layers - 1) unidirectional
  residual: true          # residual connections from the third layer on
  dropout: 0.2
image:                    # caption: how images are read (image_encoder/image_io.h)
  channels: 3             # 1 gray | 3 RGB
  height: 96              # the network's input size
  width: 96
  resize: pad             # pad (keep aspect, pad) | crop (keep aspect, center crop)
  alpha: white            # white (composite over white) | drop
  pad_value: 0.0          # padding intensity in [0, 1]
  mean: [0.0]             # per-channel normalization (x - mean) / std of intensities in [0, 1]
  std: [1.0]
  max_pixels: 40000000    # larger images are decoded reduced (JPEG) or refused
  augment:                # training only
    min_crop_scale: 1.0   # < 1: random crops of at least this share of each side
    horizontal_flip: false  # mirrors left and right: off for captions that name sides
image_encoder:            # the CNN of the caption job (docs/architecture.md "The image encoder")
  channels: [32, 64, 128] # one block per entry: its convolutions' width, then a 2x2 pooling
  convs_per_block: 1      # 3x3 convolutions (+ batch norm + ReLU) per block
  kernel_size: 3          # odd; padded to keep the size
  batch_norm: true        # batch normalization after each convolution (false: conv bias)
  bn_momentum: 0.1        # running-statistics update rate
  pool: max               # max | avg
  output_size: 256        # memory and summary width D (a final 1x1 convolution)
  max_grid_size: 32       # largest feature grid side (position-embedding tables)
  dropout: 0.1            # on the memory vectors
  onnx: ""                # a frozen, pretrained CNN (ONNX file run by OpenCV's dnn) replacing the
                          # CNN above: only a 1x1 projection to output_size learns ("" = none)
  onnx_output: ""         # its layer whose 4-D output [B, F, H', W'] is the feature grid
                          # ("" = the network's only output; a node name or OpenCV layer name)
decoder:
  embed_size: 256
  hidden_size: 512
  layers: 1
  attention: general      # general (Luong) | additive (Bahdanau)
  attention_size: 0       # additive only; 0 = hidden_size
  input_feeding: true
  init_state: summary     # summary (the state starts from the memory's mean) | zero (the decoder
                          #   must attend to learn anything of the input)
  tie_embeddings: false   # output projection = target embedding (embed_size == hidden_size)
  dropout: 0.2
  word_dropout: 0.0       # training: this share of target input words becomes <unk>, so the
                          #   decoder must read the input (a reply model that ignores its message)
train:
  learning_rate: 0.001
  schedule: inverse_sqrt  # constant | inverse_sqrt | plateau
  warmup_steps: 1000
  decay_factor: 0.5       # plateau: rate multiplier...
  decay_patience: 2       # ...after this many validations without improvement
  min_learning_rate: 0.0
  beta1: 0.9
  beta2: 0.999
  weight_decay: 0.0
  clip_norm: 5.0
  label_smoothing: 0.1
  max_steps: 10000        # 0 = no limit (then max_epochs must be set)
  max_epochs: 0
  max_minutes: 0          # stop after this much training time (0 = no limit)
  log_every: 100
  valid_every: 1000
  save_every: 0           # 0 = checkpoint at every validation
  patience: 5             # validations without improvement before stopping (0 = never)
  valid_metric: bleu      # bleu | perplexity
  keep_checkpoints: 3
  ema_decay: 0.0          # weight averaging: validate and save an exponential moving average of
                          #   the weights (e.g. 0.9999; 0 = off; docs/translate.md)
  seed: 1
  threads: 2              # CPU math threads
  workers: 0              # translation: each batch cut into this many shards of sentences, run
                          #   at once on worker threads (own model copy, threads/workers math
                          #   threads each), gradients summed before one update (0 = threads for
                          #   translation, 1 for captions and async; docs/scale-out.md)
  device: cpu             # cpu | cuda | cuda:N
  freeze: []              # parameter name prefixes kept fixed (fine-tuning with --init-from)
  parallel:               # scale-out (docs/scale-out.md)
    mode: none            # none | sync (mpirun -np N s2s train ...) | async (replica threads)
    replicas: 0           # async: replica threads (0 = 2); sync: 0 or mpirun's process count
    accumulate: 1         # batches per rank per update (gradient accumulation; none and sync)
    max_staleness: 0      # async: gradients older than this many updates are dropped or
                          #   scaled (stale_policy); 0 = no bound
    stale_policy: drop    # async: drop | scale (learning rate * (S+1)/(staleness+1))
    bucket_mb: 4          # sync: gradient MiB per all-reduce bucket
    timeout: 300          # sync: seconds to wait for a rank before ending the job naming it
    transport: auto       # sync: auto (nccl for train.device cuda, mpi on the CPU) | mpi | nccl
    model:                # model parallelism, sync mode: one rank a stage (mpirun -np stages)
      stages: 1           # 1 | 2 (encoder | decoder and output layer) | 3 (encoder | decoder |
                          #   output layer) | 4 (encoder's first layer | its upper layers | ...)
      micro_batches: 1    # each batch in this many micro-batches through the stages (GPipe)
caption:                  # s2s caption and the caption job's validation
  beam_size: 4
  normalize: 0.0          # length normalisation alpha
  batch_size: 32          # images per batch
  max_length: 40          # caption pieces at most
translate:
  batch_size: 32          # sentences decoded together
  batch_tokens: 0         # > 0: also at most this many (padded) source pieces per batch
  beam_size: 5            # hypotheses kept per sentence; 1 = greedy
  normalize: 0.6          # length normalisation alpha: score = log P / ((5 + |y|) / 6)^alpha
  coverage: 0.0           # coverage penalty beta (GNMT); 0 = off
  max_length_factor: 2.0  # output length limit: factor * source length + 10
  max_source_length: 256  # longer inputs (in pieces) are truncated with a warning
)";
  return text;
}

namespace {
void reject_unknown(const Config& defaults, const Config& given, const std::string& source) {
  // unread_keys of a fresh Config lists all its leaves.
  for (const std::string& key : given.unread_keys())
    if (!defaults.has(key))
      throw ConfigError(source + ": unknown recipe key '" + key +
                        "' (s2s train --dump-config lists every key)");
}
}  // namespace

Config load_recipe(const std::string& path, const Overrides& overrides) {
  const Config defaults = Config::from_yaml_string(default_recipe(), "defaults");
  Config config = defaults;
  if (!path.empty()) {
    const Config recipe = Config::from_yaml_file(path);
    reject_unknown(defaults, recipe, path);
    config.merge(recipe);
  }
  for (const auto& [key, value] : overrides) {
    if (!defaults.has(key))
      throw ConfigError("--" + key + ": unknown recipe key '" + key +
                        "' (s2s train --dump-config lists every key)");
    config.set(key, value, "--" + key);
  }
  return config;
}

std::string resolve_path(const std::string& recipe_path, const std::string& path) {
  if (path.empty() || recipe_path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(recipe_path).parent_path() / path).lexically_normal().string();
}

Config load_training_recipe(const std::string& path, const Overrides& overrides) {
  Config config = load_recipe(path, overrides);
  for (const char* key :
       {"data.train", "data.valid", "vocab.model", "data.image_dir", "image_encoder.onnx"}) {
    const bool overridden = std::any_of(overrides.begin(), overrides.end(),
                                        [&](const auto& kv) { return kv.first == key; });
    if (overridden) continue;  // given paths are relative to the caller's working directory
    std::vector<std::string> paths = corpus_paths(config, key);
    std::string yaml = "[";
    for (size_t i = 0; i < paths.size(); ++i)
      yaml += (i ? ", \"" : "\"") + resolve_path(path, paths[i]) + "\"";
    config.set(key, paths.size() == 1 ? yaml.substr(1) : yaml + "]");
  }
  return config;
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

namespace {

ops::AttentionKind parse_attention(const std::string& name) {
  if (name == "general") return ops::AttentionKind::general;
  if (name == "additive") return ops::AttentionKind::additive;
  throw ConfigError("decoder.attention must be general or additive, got '" + name + "'");
}

}  // namespace

AttentionDecoderOptions decoder_options(const Config& config, int64_t vocab_size,
                                        const Encoder& encoder, Device device) {
  AttentionDecoderOptions d;
  d.vocab_size = vocab_size;
  d.embed_size = config.get<int64_t>("decoder.embed_size");
  d.hidden_size = config.get<int64_t>("decoder.hidden_size");
  d.num_layers = config.get<int>("decoder.layers");
  d.memory_size = encoder.memory_size();
  const std::string init = config.get<std::string>("decoder.init_state");
  if (init != "summary" && init != "zero")
    throw ConfigError("decoder.init_state must be summary or zero, got '" + init + "'");
  d.summary_size = init == "summary" ? encoder.summary_size() : 0;
  d.attention = parse_attention(config.get<std::string>("decoder.attention"));
  d.attention_size = config.get<int64_t>("decoder.attention_size");
  d.input_feeding = config.get<bool>("decoder.input_feeding");
  d.tie_embeddings = config.get<bool>("decoder.tie_embeddings");
  d.dropout = config.get<double>("decoder.dropout");
  d.word_dropout = config.get<double>("decoder.word_dropout");
  if (!(d.word_dropout >= 0 && d.word_dropout < 1))
    throw ConfigError("decoder.word_dropout must be in [0, 1), got " +
                      std::to_string(d.word_dropout));
  d.unk_id = Vocab::kUnk;
  d.pad_id = Vocab::kPad;
  d.device = device;
  d.seed = Rng(static_cast<uint64_t>(config.get<int64_t>("train.seed"))).split(200).seed();
  return d;
}

ImageOptions image_options(const Config& c) {
  ImageOptions o;
  o.channels = c.get<int>("image.channels");
  o.height = c.get<int>("image.height");
  o.width = c.get<int>("image.width");
  o.resize = parse_resize_mode(c.get<std::string>("image.resize"));
  o.alpha = parse_alpha_mode(c.get<std::string>("image.alpha"));
  o.pad_value = static_cast<float>(c.get<double>("image.pad_value"));
  o.mean.clear();
  for (double v : c.get<std::vector<double>>("image.mean"))
    o.mean.push_back(static_cast<float>(v));
  o.std.clear();
  for (double v : c.get<std::vector<double>>("image.std"))
    o.std.push_back(static_cast<float>(v));
  o.max_pixels = c.get<int64_t>("image.max_pixels");
  o.validate();
  return o;
}

ImageAugmentation image_augmentation(const Config& c) {
  ImageAugmentation a;
  a.min_crop_scale = static_cast<float>(c.get<double>("image.augment.min_crop_scale"));
  a.horizontal_flip = c.get<bool>("image.augment.horizontal_flip");
  return a;
}

data::BatcherOptions batcher_options(const Config& c) {
  data::BatcherOptions b;
  b.batch_tokens = c.get<int64_t>("data.batch_tokens");
  b.max_sentences = c.get<int64_t>("data.max_sentences");
  b.max_length = c.get<int64_t>("data.max_length");
  b.shuffle_buffer = c.get<int64_t>("data.shuffle_buffer");
  b.pool_size = c.get<int64_t>("data.pool_size");
  b.threads = c.get<int>("data.threads");
  b.oversample.times = c.get<int64_t>("data.oversample.times");
  b.oversample.min_source_words = c.get<int64_t>("data.oversample.min_source_words");
  b.oversample.source_ends_with =
      c.get<std::vector<std::string>>("data.oversample.source_ends_with");
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
  t.ema_decay = c.get<double>("train.ema_decay");
  t.seed = static_cast<uint64_t>(c.get<int64_t>("train.seed"));
  t.output_dir = output;
  t.parallel.mode = parse_parallel_mode(c.get<std::string>("train.parallel.mode"));
  t.workers = c.get<int>("train.workers");
  t.parallel.accumulate = c.get<int>("train.parallel.accumulate");
  t.parallel.stages = c.get<int>("train.parallel.model.stages");
  t.parallel.micro_batches = c.get<int>("train.parallel.model.micro_batches");
  if (t.workers == 0)  // auto: one worker a math thread where a batch can be split
    t.workers = c.get<std::string>("task") == "translate" &&
                        t.parallel.mode != ParallelMode::async && t.parallel.stages == 1
                    ? std::clamp(c.get<int>("train.threads"), 1, 64)
                    : 1;
  t.parallel.staleness.max_staleness = c.get<int64_t>("train.parallel.max_staleness");
  t.parallel.staleness.policy =
      parse_stale_policy(c.get<std::string>("train.parallel.stale_policy"));
  t.parallel.bucket_mb = c.get<double>("train.parallel.bucket_mb");
  t.parallel.timeout = c.get<double>("train.parallel.timeout");
  return t;
}

}  // namespace s2s::api
