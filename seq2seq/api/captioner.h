// Captioner: a trained caption model (`s2s train` with `task: caption`), loaded once, captioning
// image files or images already in memory. What `s2s caption`, the Python package and the server
// call; training's validation takes the same path from pixels to captions.
//
//   s2s::api::Captioner captioner("runs/scenes/model");
//   s2s::api::CaptionOptions options = captioner.default_options();  // the model's caption.*
//   options.n_best = 3, options.attention = true;
//   for (const CaptionResult& r : captioner.caption({"a.png", "b.jpg"}, options))
//     std::cout << (r.ok() ? r.captions[0].text : r.error) << "\n";
//
// A file that is not a readable image (empty, truncated, a text file named .jpg, too large) gets
// a result with its error and no captions; the other images of the batch are captioned.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seq2seq/api/translator.h"  // ModelOptions
#include "seq2seq/config.h"

namespace s2s::api {

struct CaptionOptions {
  int beam_size = 4;            // hypotheses kept per image; 1 = greedy
  int n_best = 1;               // captions returned per image (<= beam_size)
  double length_penalty = 0.0;  // alpha, as in TranslateOptions
  int64_t batch_size = 32;      // images encoded and searched together
  int64_t max_length = 40;      // caption pieces at most
  bool attention = false;       // keep each word's attention over the feature grid

  void validate() const;  // InvalidArgument naming the field
};

// An image in memory: height x width x channels (1 gray, 3 RGB, 4 RGBA), row-major, contiguous;
// uint8 values, or float intensities in [0, 1]. Resized and normalized exactly as the same pixels
// read from a file. The caller keeps the data alive during the call.
struct ImageView {
  const void* data = nullptr;
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 3;
  bool is_float = false;
};

struct Caption {
  std::string text;
  std::vector<std::string> words;      // the output pieces, EOS excluded
  double score = 0;                    // what the search ranked by
  double log_prob = 0;                 // log P(words, EOS | image)
  std::vector<float> token_log_probs;  // per word, then EOS
  // With options.attention: per word and then EOS, grid_height x grid_width weights (row-major).
  std::vector<std::vector<float>> attention;
};

struct CaptionResult {
  std::vector<Caption> captions;  // best first; empty when the image failed
  std::string error;              // why this image has no caption
  bool ok() const { return error.empty(); }
};

class Captioner {
 public:
  // A caption model folder; InputError naming the folder when it is not one.
  explicit Captioner(const std::string& model, const ModelOptions& options = {});
  ~Captioner();
  Captioner(const Captioner&) = delete;
  Captioner& operator=(const Captioner&) = delete;

  // The model's caption.* settings.
  const CaptionOptions& default_options() const;

  std::vector<CaptionResult> caption(const std::vector<std::string>& paths,
                                     const CaptionOptions& options) const;
  std::vector<CaptionResult> caption(const std::vector<ImageView>& images,
                                     const CaptionOptions& options) const;

  // The feature grid the attention weights cover: {height, width}.
  std::pair<int64_t, int64_t> grid_size() const;

  // A PNG of the image at image_path with each word's attention of caption overlaid (the caption
  // must have been made with options.attention). Written atomically; InputError for an image
  // that does not load, IoError when the file cannot be written.
  void write_attention_map(const std::string& image_path, const Caption& caption,
                           const std::string& out_path) const;

  const Config& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every regular file named, or inside a named folder (its sub-folders too with recursive),
// sorted, duplicates removed; hidden files inside folders are skipped. InputError for a path
// that does not exist.
std::vector<std::string> list_image_files(const std::vector<std::string>& paths, bool recursive);

}  // namespace s2s::api
