// CaptionModel: an image encoder (CNN), the attention decoder and the word vocabulary of the
// caption job, built from a resolved recipe or loaded from a model folder (model.safetensors,
// config.yaml, vocab.model) — the caption counterpart of TranslationModel. Internal to api/:
// front ends use captioner.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beam_search/beam_search.h"
#include "decoders/attention_decoder.h"
#include "image_encoder/image_io.h"
#include "image_encoder/make_image_encoder.h"
#include "seq2seq/config.h"
#include "vocab/vocab.h"

namespace s2s::api {

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

// The one path from pixels to captions: encode a batch of images [B, C, H, W] (on the CPU; moved
// to the model's device here) and search, per image, the n-best captions. `s2s caption`, the
// Captioner and training's validation all come through here.
std::vector<std::vector<Hypothesis>> caption_search(CaptionModel& model, const Tensor& pixels,
                                                    const BeamSearchOptions& search);

// The model's caption.* settings: beam, length normalisation, length limit.
BeamSearchOptions caption_search_options(const Config& config);

}  // namespace s2s::api
