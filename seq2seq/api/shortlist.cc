// Shortlist: co-occurrence counts over the corpus, Dice-ranked lists, and the safetensors file.
#include "seq2seq/api/shortlist.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "seq2seq/data/parallel_corpus.h"
#include "seq2seq/error.h"
#include "seq2seq/manifest.h"
#include "seq2seq/safetensors.h"

namespace fs = std::filesystem;

namespace s2s::api {
namespace {

// The distinct ids of a sequence, sorted.
std::vector<int32_t> distinct(std::vector<int32_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

Shortlist Shortlist::build(const Vocab& vocab, const std::vector<std::string>& corpus,
                           const ShortlistOptions& options) {
  const int64_t v = vocab.size();
  if (options.candidates < 1)
    throw ConfigError("shortlist: candidates per piece must be at least 1, got " +
                      std::to_string(options.candidates));
  if (options.frequent < 0)
    throw ConfigError("shortlist: frequent pieces must be >= 0, got " +
                      std::to_string(options.frequent));
  // A small vocabulary caps both: a list cannot be longer than the pieces there are.
  const int64_t candidates = std::min(options.candidates, v);
  const int64_t frequent = std::min(options.frequent, v);
  if (options.max_pairs < 0) throw ConfigError("shortlist: max_pairs must be >= 0 (0: all)");

  std::vector<int64_t> source_pairs(v, 0), target_pairs(v, 0), target_tokens(v, 0);
  std::vector<std::unordered_map<int32_t, int32_t>> together(v);
  data::ParallelCorpus pairs(corpus);
  data::SentencePair pair;
  int64_t counted = 0;
  while ((options.max_pairs == 0 || counted < options.max_pairs) && pairs.next(pair)) {
    std::vector<int32_t> target;
    std::vector<int32_t> source;
    try {
      source = distinct(vocab.encode(pair.source));
      target = vocab.encode(pair.target);
    } catch (const InputError&) {
      continue;  // a pair the vocabulary cannot encode teaches nothing
    }
    for (int32_t t : target)
      ++target_tokens[t];
    target = distinct(std::move(target));
    if (source.empty() || target.empty()) continue;
    for (int32_t s : source) {
      ++source_pairs[s];
      auto& row = together[s];
      for (int32_t t : target)
        ++row[t];
    }
    for (int32_t t : target)
      ++target_pairs[t];
    ++counted;
    if (options.on_progress && counted % 100000 == 0) options.on_progress(counted);
  }
  if (options.on_progress) options.on_progress(counted);
  if (counted == 0)
    throw InputError("shortlist: the corpus has no pair the vocabulary encodes to pieces");

  Shortlist out;
  out.vocab_size_ = v;
  out.candidates_ = candidates;
  out.pairs_ = counted;
  out.table_.assign(static_cast<size_t>(v * candidates), -1);
  std::vector<std::pair<double, int32_t>> ranked;
  for (int32_t s = 0; s < v; ++s) {
    ranked.clear();
    for (const auto& [t, n] : together[s])
      ranked.emplace_back(2.0 * n / static_cast<double>(source_pairs[s] + target_pairs[t]), t);
    // Best Dice first; ties by the lower id, so the file is the same on every run.
    const size_t keep = std::min(ranked.size(), static_cast<size_t>(candidates));
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep),
                      ranked.end(), [](const auto& a, const auto& b) {
                        return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    for (size_t j = 0; j < keep; ++j)
      out.table_[static_cast<size_t>(s * candidates) + j] = ranked[j].second;
  }
  std::vector<int32_t> by_count(static_cast<size_t>(v));
  for (int32_t t = 0; t < v; ++t)
    by_count[t] = t;
  std::stable_sort(by_count.begin(), by_count.end(),
                   [&](int32_t a, int32_t b) { return target_tokens[a] > target_tokens[b]; });
  for (int32_t t : by_count) {
    if (static_cast<int64_t>(out.frequent_.size()) == frequent || target_tokens[t] == 0) break;
    out.frequent_.push_back(t);
  }
  return out;
}

Shortlist Shortlist::load(const std::string& path, int64_t vocab_size) {
  SafetensorsContents contents = load_safetensors(path);
  auto tensor = [&](const char* name, int rank) -> const Tensor& {
    const auto it = contents.tensors.find(name);
    S2S_CHECK_AS(InputError, it != contents.tensors.end(), "shortlist '", path, "' has no '", name,
                 "' tensor");
    S2S_CHECK_AS(InputError, it->second.dtype() == DType::i32 && it->second.rank() == rank,
                 "shortlist '", path, "': '", name, "' must be i32 of rank ", rank, ", got ",
                 it->second.str());
    return it->second;
  };
  const Tensor& candidates = tensor("candidates", 2);
  const Tensor& frequent = tensor("frequent", 1);
  S2S_CHECK_AS(InputError, candidates.dim(0) == vocab_size && candidates.dim(1) >= 1, "shortlist '",
               path, "' is for a vocabulary of ", candidates.dim(0), " pieces, the model has ",
               vocab_size);
  Shortlist out;
  out.vocab_size_ = vocab_size;
  out.candidates_ = candidates.dim(1);
  out.table_ = candidates.to_vector<int32_t>();
  out.frequent_ = frequent.to_vector<int32_t>();
  for (int32_t id : out.table_)
    S2S_CHECK_AS(InputError, id >= -1 && id < vocab_size, "shortlist '", path, "': candidate id ",
                 id, " is outside the vocabulary of ", vocab_size);
  for (int32_t id : out.frequent_)
    S2S_CHECK_AS(InputError, id >= 0 && id < vocab_size, "shortlist '", path, "': frequent id ", id,
                 " is outside the vocabulary of ", vocab_size);
  const auto pairs = contents.metadata.find("pairs");
  if (pairs != contents.metadata.end()) out.pairs_ = std::stoll(pairs->second);
  return out;
}

void Shortlist::save(const std::string& path) const {
  save_safetensors(path,
                   {{"candidates", Tensor::from_vector(table_, {vocab_size_, candidates_})},
                    {"frequent", Tensor::from_vector(frequent_, {frequent()})}},
                   {{"format", "s2s shortlist 1"}, {"pairs", std::to_string(pairs_)}});
}

std::vector<int32_t> Shortlist::allowed(
    const std::vector<const std::vector<int32_t>*>& sources) const {
  std::vector<char> in(static_cast<size_t>(vocab_size_), 0);
  in[Vocab::kEos] = in[Vocab::kUnk] = 1;
  for (int32_t t : frequent_)
    in[t] = 1;
  for (const std::vector<int32_t>* source : sources)
    for (int32_t s : *source) {
      if (s < 0 || s >= vocab_size_) continue;
      const int32_t* row = table_.data() + static_cast<size_t>(s) * candidates_;
      for (int64_t j = 0; j < candidates_ && row[j] >= 0; ++j)
        in[row[j]] = 1;
    }
  std::vector<int32_t> ids;
  for (int32_t t = 0; t < vocab_size_; ++t)
    if (in[t]) ids.push_back(t);
  return ids;
}

Shortlist add_shortlist(const std::string& model_folder, const std::vector<std::string>& corpus,
                        const ShortlistOptions& options) {
  const fs::path dir(model_folder);
  for (const char* file : {"config.yaml", "model.safetensors", "vocab.model"})
    if (!fs::exists(dir / file))
      throw InputError("shortlist: '" + model_folder + "' is not a model folder: it has no " +
                       file);
  verify_folder(model_folder);
  const Vocab vocab = Vocab::load((dir / "vocab.model").string());
  Shortlist shortlist = Shortlist::build(vocab, corpus, options);
  shortlist.save((dir / kShortlistFile).string());
  write_manifest(model_folder);
  return shortlist;
}

}  // namespace s2s::api
