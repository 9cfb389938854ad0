// Captioner: caption model replicas in a pool, images loaded in batches, results in input order.
#include "seq2seq/api/captioner.h"

#include <algorithm>
#include <filesystem>

#include "image_encoder/image_io.h"
#include "seq2seq/api/caption_model.h"
#include "seq2seq/api/recipe.h"
#include "seq2seq/api/replica_pool.h"
#include "seq2seq/error.h"
#include "seq2seq/ops/index_select.h"

namespace fs = std::filesystem;

namespace s2s::api {

void CaptionOptions::validate() const {
  S2S_CHECK(beam_size >= 1, "caption: beam_size must be at least 1, got ", beam_size);
  S2S_CHECK(n_best >= 1 && n_best <= beam_size, "caption: n_best must be between 1 and the beam ",
            "size (", beam_size, "), got ", n_best);
  S2S_CHECK(batch_size >= 1, "caption: batch_size must be at least 1, got ", batch_size);
  S2S_CHECK(max_length >= 1, "caption: max_length must be at least 1, got ", max_length);
}

struct Captioner::Impl {
  ReplicaPool<CaptionModel> pool;
  CaptionOptions defaults;
  ImageOptions image;
  Config config;
  std::shared_ptr<Vocab> vocab;

  // Captions images [begin, end) of a call in batches; load(rows, batch, errors) fills the
  // pixels of those rows.
  void run(CaptionModel& model, size_t begin, size_t end, const CaptionOptions& options,
           const std::function<void(size_t first, Tensor& pixels,
                                    std::vector<std::string>& errors)>& load,
           std::vector<CaptionResult>& out) const {
    model.set_training(false);
    BeamSearchOptions search = caption_search_options(model.config);
    search.beam_size = options.beam_size;
    search.n_best = options.n_best;
    search.length_penalty = options.length_penalty;
    search.max_length_add = options.max_length;
    search.keep_attention = options.attention;
    const size_t batch_size = static_cast<size_t>(options.batch_size);
    for (size_t first = begin; first < end; first += batch_size) {
      const size_t last = std::min(end, first + batch_size);
      Tensor pixels = Tensor::empty(
          {static_cast<int64_t>(last - first), image.channels, image.height, image.width});
      std::vector<std::string> errors(last - first);
      load(first, pixels, errors);
      // Only the images that loaded go through the network.
      std::vector<int32_t> good;
      for (size_t i = 0; i < errors.size(); ++i)
        if (errors[i].empty()) good.push_back(static_cast<int32_t>(i));
      for (size_t i = 0; i < errors.size(); ++i)
        out[first + i].error = errors[i];
      if (good.empty()) continue;
      const Tensor input =
          good.size() == errors.size() ? pixels : ops::index_select(pixels, 0, good);
      std::vector<std::vector<Hypothesis>> found = caption_search(model, input, search);
      for (size_t j = 0; j < good.size(); ++j) {
        CaptionResult& r = out[first + good[j]];
        for (Hypothesis& h : found[j]) {
          Caption c;
          c.text = vocab->decode(h.tokens);
          for (int32_t id : h.tokens)
            c.words.push_back(vocab->decode(std::vector<int32_t>{id}));
          c.score = h.score;
          c.log_prob = h.log_prob;
          c.token_log_probs = std::move(h.token_log_probs);
          c.attention = std::move(h.attention);
          r.captions.push_back(std::move(c));
        }
      }
    }
  }
};

Captioner::Captioner(const std::string& model, const ModelOptions& options)
    : impl_(std::make_unique<Impl>()) {
  S2S_CHECK(options.replicas >= 1, "Captioner: replicas must be at least 1, got ",
            options.replicas);
  S2S_CHECK(options.threads >= 1, "Captioner: threads must be at least 1, got ", options.threads);
  set_num_threads(std::max(1, options.threads / options.replicas));
  const Device device = Device::parse(options.device);
  for (int r = 0; r < options.replicas; ++r)
    impl_->pool.add(std::make_unique<CaptionModel>(CaptionModel::load(model, device)));
  const CaptionModel& first = impl_->pool.first();
  impl_->config = first.config;
  impl_->vocab = first.vocab;
  impl_->image = image_options(first.config);
  const BeamSearchOptions search = caption_search_options(first.config);
  impl_->defaults.beam_size = search.beam_size;
  impl_->defaults.length_penalty = search.length_penalty;
  impl_->defaults.max_length = search.max_length_add;
  impl_->defaults.batch_size = first.config.get<int64_t>("caption.batch_size");
}

Captioner::~Captioner() = default;

const CaptionOptions& Captioner::default_options() const {
  return impl_->defaults;
}

const Config& Captioner::config() const {
  return impl_->config;
}

std::pair<int64_t, int64_t> Captioner::grid_size() const {
  return impl_->pool.first().grid_size();
}

std::vector<CaptionResult> Captioner::caption(const std::vector<std::string>& paths,
                                              const CaptionOptions& options) const {
  options.validate();
  std::vector<CaptionResult> out(paths.size());
  impl_->pool.run(paths.size(), static_cast<size_t>(options.batch_size),
                  [&](CaptionModel& model, size_t begin, size_t end) {
                    impl_->run(
                        model, begin, end, options,
                        [&](size_t first, Tensor& pixels, std::vector<std::string>& errors) {
                          const std::vector<std::string> batch(
                              paths.begin() + first,
                              paths.begin() + first + static_cast<size_t>(pixels.dim(0)));
                          pixels = load_image_batch(batch, impl_->image, errors);
                        },
                        out);
                  });
  return out;
}

std::vector<CaptionResult> Captioner::caption(const std::vector<ImageView>& images,
                                              const CaptionOptions& options) const {
  options.validate();
  std::vector<CaptionResult> out(images.size());
  impl_->pool.run(
      images.size(), static_cast<size_t>(options.batch_size),
      [&](CaptionModel& model, size_t begin, size_t end) {
        impl_->run(
            model, begin, end, options,
            [&](size_t first, Tensor& pixels, std::vector<std::string>& errors) {
              for (int64_t i = 0; i < pixels.dim(0); ++i) {
                const ImageView& v = images[first + static_cast<size_t>(i)];
                try {
                  load_pixels_into(PixelView{v.data, v.height, v.width, v.channels, v.is_float},
                                   impl_->image, pixels, i);
                } catch (const InputError& e) {
                  errors[static_cast<size_t>(i)] =
                      "image " + std::to_string(first + static_cast<size_t>(i)) + ": " + e.what();
                  pixels.select(i).zero();
                }
              }
            },
            out);
      });
  return out;
}

void Captioner::write_attention_map(const std::string& image_path, const Caption& caption,
                                    const std::string& out_path) const {
  S2S_CHECK(!caption.attention.empty(), "attention map of ", image_path,
            ": the caption has no attention weights (caption with options.attention = true)");
  std::vector<std::string> words = caption.words;
  words.push_back("</s>");
  const auto [grid_h, grid_w] = grid_size();
  s2s::write_attention_map(image_path, impl_->image, words, caption.attention, grid_h, grid_w,
                           out_path);
}

std::vector<std::string> list_image_files(const std::vector<std::string>& paths, bool recursive) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code error;
    const fs::file_status status = fs::status(p, error);
    if (error || !fs::exists(status)) throw InputError("'" + p + "' does not exist");
    if (!fs::is_directory(status)) {
      files.push_back(p);
      continue;
    }
    auto add = [&](const fs::directory_entry& entry) {
      const std::string name = entry.path().filename().string();
      if (!name.empty() && name[0] == '.') return;
      if (entry.is_regular_file()) files.push_back(entry.path().string());
    };
    if (recursive)
      for (const auto& entry : fs::recursive_directory_iterator(p))
        add(entry);
    else
      for (const auto& entry : fs::directory_iterator(p))
        add(entry);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace s2s::api
