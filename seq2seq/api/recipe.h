// Recipes, the one description of a job (DESIGN.md): every option declared once with its
// default (recipe.cc), merged defaults < recipe YAML < overrides (`--decoder.hidden_size 1024` on
// the command line, a dict in Python), unknown keys rejected (a typo is an error naming the key,
// not a silently ignored setting), and data paths resolved against the recipe's folder.
// The typed option structs of the components are built from a resolved recipe here, once, at
// the boundary: nothing below api/ reads a Config key of another component.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "decoders/attention_decoder.h"
#include "image_encoder/image_io.h"
#include "seq2seq/config.h"
#include "seq2seq/data/batcher.h"
#include "seq2seq/train/trainer.h"

namespace s2s::api {

using Overrides = std::vector<std::pair<std::string, std::string>>;  // (dotted key, YAML value)

// The defaults of every recipe key, as YAML with a comment per key (`s2s train --dump-config`).
const std::string& default_recipe();

// defaults < recipe file (if path is not empty) < overrides. ConfigError for a key that is not
// in the defaults, naming it and where it came from.
Config load_recipe(const std::string& path, const Overrides& overrides = {});

// A path from the recipe, absolute or relative to the recipe's folder.
std::string resolve_path(const std::string& recipe_path, const std::string& path);

// load_recipe, then every data path the recipe gives (data.train, data.valid, vocab.model,
// data.image_dir, image_encoder.onnx) resolved against the recipe's folder; a path given as an
// override stays as given (relative to the caller's working directory). What training reads.
Config load_training_recipe(const std::string& path, const Overrides& overrides = {});

// A corpus key: one TSV path, or a list of two aligned files (source, target).
std::vector<std::string> corpus_paths(const Config& config, const std::string& key);

// ---- the components' options from a recipe -------------------------------------------------

// decoder.*: an attention decoder over encoder's memory (translation and captions alike); its
// seed is train.seed's decoder stream.
AttentionDecoderOptions decoder_options(const Config& config, int64_t vocab_size,
                                        const Encoder& encoder, Device device);
// image.* (image.augment.* only for training).
ImageOptions image_options(const Config& config);
ImageAugmentation image_augmentation(const Config& config);
// data.* batching of training pairs.
data::BatcherOptions batcher_options(const Config& config);
// train.*: every value is checked here, before a run writes anything.
TrainerOptions trainer_options(const Config& config, const std::string& output);

}  // namespace s2s::api
