// Batcher: the pipeline corpus -> encode (block-parallel) -> filter -> shuffle buffer -> pool
// (sort, cut, shuffle batch order) -> batch. Every random draw comes from one per-epoch stream
// consumed in a fixed order, so the batch sequence depends only on corpus, options and seed.
#include "seq2seq/data/batcher.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <thread>

#include "seq2seq/error.h"

namespace s2s::data {

namespace {

// Pairs read and encoded together; with several threads each encodes a strided share.
constexpr size_t kBlockPerThread = 256;

void check_options(const BatcherOptions& o) {
  auto fail = [](const std::string& what) { throw ConfigError("batcher: " + what); };
  if (o.batch_tokens <= 0) fail("batch_tokens must be positive");
  if (o.max_sentences < 0) fail("max_sentences must be >= 0 (0: no limit)");
  if (o.max_length < 0) fail("max_length must be >= 0 (0: no limit)");
  if (o.shuffle_buffer <= 0) fail("shuffle_buffer must be positive");
  if (o.pool_size <= 0) fail("pool_size must be positive");
  if (o.threads <= 0) fail("threads must be positive");
  if (o.oversample.times < 1) fail("oversample.times must be >= 1 (1: off)");
  if (o.oversample.times > 1000) fail("oversample.times must be at most 1000");
  if (o.oversample.min_source_words < 0) fail("oversample.min_source_words must be >= 0");
  for (const std::string& end : o.oversample.source_ends_with)
    if (end.empty()) fail("oversample.source_ends_with holds an empty string");
  if (!o.in_order && o.max_length > 0 && o.batch_tokens < o.max_length + 1)
    fail("batch_tokens (" + std::to_string(o.batch_tokens) +
         ") cannot hold one example of max_length (" + std::to_string(o.max_length) +
         ") tokens plus EOS");
}

}  // namespace

bool OversampleRule::matches(const std::string& source) const {
  if (times <= 1) return false;
  size_t end = source.size();
  while (end > 0 && source[end - 1] == ' ')
    --end;
  if (!source_ends_with.empty()) {
    const std::string_view text(source.data(), end);
    if (std::none_of(source_ends_with.begin(), source_ends_with.end(),
                     [&](const std::string& suffix) { return text.ends_with(suffix); }))
      return false;
  }
  if (min_source_words > 0) {
    int64_t words = 0;
    bool in_word = false;
    for (size_t i = 0; i < end && words < min_source_words; ++i) {
      const bool space = source[i] == ' ' || source[i] == '\t';
      if (!space && !in_word) ++words;
      in_word = !space;
    }
    if (words < min_source_words) return false;
  }
  return true;
}

Batcher::Batcher(CorpusFactory corpus, EncodeFn encode_source, EncodeFn encode_target,
                 BatcherOptions options)
    : corpus_factory_(std::move(corpus)),
      encode_source_(std::move(encode_source)),
      encode_target_(std::move(encode_target)),
      options_(std::move(options)) {
  S2S_CHECK(corpus_factory_ && encode_source_ && encode_target_,
            "Batcher needs a corpus factory and both encode functions");
  check_options(options_);
}

Batcher::~Batcher() = default;

const CorpusStats& Batcher::corpus_stats() const {
  static const CorpusStats none;
  return corpus_ ? corpus_->stats() : none;
}

void Batcher::start_epoch(int64_t epoch) {
  S2S_CHECK(epoch >= 0, "Batcher::start_epoch: epoch ", epoch, " is negative");
  corpus_.reset();  // closes the previous epoch's files first
  corpus_ = corpus_factory_(epoch);
  S2S_CHECK(corpus_ != nullptr, "Batcher: the corpus factory returned no corpus");
  epoch_ = epoch;
  emitted_ = 0;
  started_ = true;
  exhausted_ = false;
  rng_ = Rng(options_.seed).split(static_cast<uint64_t>(epoch));
  stats_ = {};
  incoming_.clear();
  buffer_.clear();
  pool_.clear();
  batches_.clear();
  next_batch_ = 0;
}

size_t Batcher::random_below(size_t n) {
  // Multiply-shift: the bias is n / 2^64, far below anything a shuffle could notice.
  return static_cast<size_t>((static_cast<unsigned __int128>(rng_.next_bits()) * n) >> 64);
}

bool Batcher::read_block() {
  if (exhausted_) return false;
  const size_t threads = static_cast<size_t>(options_.threads);
  std::vector<SentencePair> pairs(kBlockPerThread * threads);
  size_t n = 0;
  while (n < pairs.size() && corpus_->next(pairs[n]))
    ++n;
  if (n < pairs.size()) exhausted_ = true;
  if (n == 0) return false;

  std::vector<Example> encoded(n);
  std::vector<int64_t> copies(n, 1);
  if (!options_.in_order)
    for (size_t i = 0; i < n; ++i)
      if (options_.oversample.matches(pairs[i].source)) copies[i] = options_.oversample.times;
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](size_t worker) {
    try {
      for (size_t i = worker; i < n; i += threads) {
        encoded[i].source = encode_source_(pairs[i].source);
        encoded[i].target = encode_target_(pairs[i].target);
        encoded[i].index = pairs[i].index;
      }
    } catch (...) {
      errors[worker] = std::current_exception();
    }
  };
  if (threads == 1 || n < threads) {
    for (size_t w = 0; w < threads; ++w)
      work(w);
  } else {
    std::vector<std::thread> pool;
    for (size_t w = 1; w < threads; ++w)
      pool.emplace_back(work, w);
    work(0);
    for (std::thread& t : pool)
      t.join();
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);

  const size_t max_length = static_cast<size_t>(options_.max_length);
  for (size_t i = 0; i < n; ++i) {
    Example& e = encoded[i];
    if (!options_.in_order) {
      if (max_length > 0 && (e.source.size() > max_length || e.target.size() > max_length)) {
        ++stats_.too_long;
        continue;
      }
      if (e.source.empty()) {
        ++stats_.empty_source;
        continue;
      }
    }
    // Copies follow each other in the stream; the shuffle buffer scatters them.
    for (int64_t copy = 1; copy < copies[i]; ++copy) {
      incoming_.push_back(e);
      ++stats_.examples;
      ++stats_.oversampled;
    }
    ++stats_.examples;
    incoming_.push_back(std::move(e));
  }
  return true;
}

bool Batcher::next_example(Example& out) {
  const bool shuffle = options_.shuffle && !options_.in_order;
  if (!shuffle) {
    while (incoming_.empty())
      if (!read_block()) return false;
    out = std::move(incoming_.front());
    incoming_.pop_front();
    return true;
  }
  // Top the buffer up, then emit a uniformly chosen element: a window shuffle of the stream.
  const size_t capacity = static_cast<size_t>(options_.shuffle_buffer);
  while (buffer_.size() < capacity) {
    if (incoming_.empty() && !read_block()) break;
    if (incoming_.empty()) continue;  // a block whose examples were all filtered out
    buffer_.push_back(std::move(incoming_.front()));
    incoming_.pop_front();
  }
  if (buffer_.empty()) return false;
  const size_t pick = random_below(buffer_.size());
  std::swap(buffer_[pick], buffer_.back());
  out = std::move(buffer_.back());
  buffer_.pop_back();
  return true;
}

bool Batcher::fill_pool() {
  pool_.clear();
  batches_.clear();
  next_batch_ = 0;
  const size_t pool_size = static_cast<size_t>(options_.pool_size);
  Example e;
  while (pool_.size() < pool_size && next_example(e))
    pool_.push_back(std::move(e));
  if (pool_.empty()) return false;

  if (options_.sort_by_length)
    std::stable_sort(pool_.begin(), pool_.end(), [](const Example& a, const Example& b) {
      return std::pair(a.source.size(), a.target.size()) <
             std::pair(b.source.size(), b.target.size());
    });
  const int64_t max_sentences = options_.max_sentences;
  size_t begin = 0;
  int64_t max_src = 0, max_tgt = 0;
  for (size_t i = 0; i < pool_.size(); ++i) {
    const int64_t src = static_cast<int64_t>(pool_[i].source.size());
    const int64_t tgt = static_cast<int64_t>(pool_[i].target.size());
    const int64_t size = static_cast<int64_t>(i - begin) + 1;
    const bool fits = padded_tokens(std::max(max_src, src), std::max(max_tgt, tgt), size) <=
                          options_.batch_tokens &&
                      (max_sentences == 0 || size <= max_sentences);
    if (i > begin && !fits) {
      batches_.emplace_back(begin, i);
      begin = i;
      max_src = max_tgt = 0;
    }
    max_src = std::max(max_src, src);
    max_tgt = std::max(max_tgt, tgt);
  }
  batches_.emplace_back(begin, pool_.size());

  if (options_.shuffle && !options_.in_order)
    for (size_t i = batches_.size() - 1; i > 0; --i)
      std::swap(batches_[i], batches_[random_below(i + 1)]);
  return true;
}

bool Batcher::advance() {
  if (!started_) start_epoch(0);
  if (next_batch_ == batches_.size() && !fill_pool()) return false;
  return true;
}

bool Batcher::next(Batch& batch) {
  if (!advance()) return false;
  const auto [begin, end] = batches_[next_batch_++];
  std::vector<const Example*> examples;
  examples.reserve(end - begin);
  for (size_t i = begin; i < end; ++i)
    examples.push_back(&pool_[i]);
  batch = make_batch(examples, options_.ids);
  ++emitted_;
  return true;
}

bool Batcher::skip() {
  if (!advance()) return false;
  ++next_batch_;
  ++emitted_;
  return true;
}

void Batcher::restore(const State& state) {
  S2S_CHECK(state.batches_in_epoch >= 0, "Batcher::restore: negative batch count ",
            state.batches_in_epoch);
  start_epoch(state.epoch);
  while (emitted_ < state.batches_in_epoch) {
    if (!advance())
      throw InvalidArgument("cannot resume data at epoch " + std::to_string(state.epoch) +
                            ", batch " + std::to_string(state.batches_in_epoch) +
                            ": the epoch now has only " + std::to_string(emitted_) +
                            " batches (were the corpus or the data options changed?)");
    ++next_batch_;
    ++emitted_;
  }
}

}  // namespace s2s::data
