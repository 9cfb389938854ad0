// CaptionModel: an image encoder (CNN), the attention decoder and the word vocabulary of the
// caption job, built from a resolved recipe or loaded from a model folder (model.safetensors,
// config.yaml, vocab.model) — the caption counterpart of TranslationModel. Also turns the recipe's
// `image` group into image loading options, so training and `s2s caption` see images alike.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "decoders/attention_decoder.h"
#include "image_encoder/image_io.h"
#include "image_encoder/make_image_encoder.h"
#include "seq2seq/config.h"
#include "vocab/vocab.h"

namespace s2s::cli {

struct CaptionModel {
  Config config;
  std::shared_ptr<Vocab> vocab;
  std::unique_ptr<Encoder> encoder;  // the trainable CNN, or a frozen ONNX net + projection
  std::unique_ptr<AttentionDecoder> decoder;

  // image_encoder.onnx, if set, is resolved against base_dir (the model folder when loading).
  static CaptionModel build(const Config& config, std::shared_ptr<Vocab> vocab, Device device,
                            const std::string& base_dir = "");
  // InputError naming the folder if it is not a caption model folder.
  static CaptionModel load(const std::string& folder, Device device);

  std::vector<Parameter*> parameters();
  Device device() const;
  // The encoder's feature grid (H', W') for the recipe's image size.
  std::pair<int64_t, int64_t> grid_size() const;
  void set_training(bool training);
};

// The recipe's `image` group (image.augment.* included only for training).
ImageOptions image_options(const Config& config);
ImageAugmentation image_augmentation(const Config& config);

}  // namespace s2s::cli
