// coco-caption's BLEU and CIDEr-D, and a PTB-like caption tokenizer.
#include "seq2seq/caption_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "seq2seq/error.h"
#include "seq2seq/utf8.h"

namespace s2s {
namespace {

bool is_ascii_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
// A byte that belongs to a word: an ASCII letter or digit, or any byte of a non-ASCII code point.
bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c >= 0x80;
}
bool always_split(unsigned char c) {
  switch (c) {
    case ',':
    case ';':
    case ':':
    case '?':
    case '!':
    case '"':
    case '`':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
      return true;
    default:
      return false;
  }
}

// Typographic quotes -> ASCII, so one set of rules handles both.
std::string ascii_quotes(std::string s) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"\xe2\x80\x98", "'"}, {"\xe2\x80\x99", "'"}, {"\xe2\x80\x9c", "\""}, {"\xe2\x80\x9d", "\""}};
  for (const auto& [from, to] : kMap)
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += 1)
      s.replace(pos, 3, to);
  return s;
}

// The tokens coco-caption's tokenizer removes after PTB tokenization, plus brackets (which PTB
// spells -LRB- etc. and coco-caption also removes).
bool is_dropped(const std::string& token) {
  static const std::unordered_set<std::string> kDropped = {
      "''", "'", "``", "`", "?", "!", ",", ":", ";", "\"", "(", ")", "[", "]", "{", "}"};
  if (kDropped.count(token)) return true;
  if (std::all_of(token.begin(), token.end(), [](char c) { return c == '.'; })) return true;
  return std::all_of(token.begin(), token.end(), [](char c) { return c == '-'; });
}

void push_word(std::string& word, CaptionTokens& tokens) {
  if (word.empty()) return;
  static const char* kClitics[] = {"'s", "'re", "'ve", "'ll", "'d", "'m"};
  std::string clitic;
  if (word.size() > 3 && word.ends_with("n't")) {
    clitic = "n't";
  } else {
    for (const char* c : kClitics) {
      const std::string_view suffix(c);
      if (word.size() > suffix.size() && word.ends_with(suffix)) {
        clitic = suffix;
        break;
      }
    }
  }
  if (!clitic.empty()) {
    tokens.push_back(word.substr(0, word.size() - clitic.size()));
    tokens.push_back(clitic);
  } else {
    tokens.push_back(word);
  }
  word.clear();
}

// An n-gram as one string: tokens joined by \x01, which a token never contains.
using NgramCounts = std::unordered_map<std::string, int>;

NgramCounts count_ngrams(const CaptionTokens& tokens, int max_n = 4) {
  NgramCounts counts;
  for (size_t n = 1; n <= static_cast<size_t>(max_n); ++n)
    for (size_t i = 0; i + n <= tokens.size(); ++i) {
      std::string key = tokens[i];
      for (size_t j = 1; j < n; ++j)
        key += '\x01' + tokens[i + j];
      ++counts[key];
    }
  return counts;
}

int ngram_order(const std::string& key) {
  return 1 + static_cast<int>(std::count(key.begin(), key.end(), '\x01'));
}

void check_sizes(size_t hypotheses, const std::vector<std::vector<CaptionTokens>>& references) {
  S2S_CHECK(hypotheses == references.size(), "caption metrics: ", hypotheses,
            " hypotheses but references for ", references.size(), " images");
  for (size_t i = 0; i < references.size(); ++i)
    S2S_CHECK(!references[i].empty(), "caption metrics: image ", i + 1, " has no reference");
}

}  // namespace

CaptionTokens tokenize_caption(std::string_view text) {
  size_t bad = 0;
  if (!is_valid_utf8(text, &bad))
    throw InputError("invalid UTF-8 at byte " + std::to_string(bad + 1));
  const std::string s = ascii_quotes(utf8_lowercase(text));
  CaptionTokens raw;
  std::string word;
  const size_t n = s.size();
  const auto at = [&](size_t i) -> unsigned char { return i < n ? s[i] : 0; };
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = s[i];
    if (is_ascii_space(c)) {
      push_word(word, raw);
    } else if (always_split(c)) {
      // Commas and colons between digits stay: "1,000", "10:30".
      if ((c == ',' || c == ':') && !word.empty() && is_digit(word.back()) && is_digit(at(i + 1))) {
        word += static_cast<char>(c);
        continue;
      }
      push_word(word, raw);
      raw.emplace_back(1, static_cast<char>(c));
    } else if (c == '.' || c == '-') {
      // Inside a word ("3.5", "u.s", "t-shirt") unless doubled ("--", "...") or at an edge.
      if (!word.empty() && is_word_byte(at(i + 1))) {
        word += static_cast<char>(c);
        continue;
      }
      push_word(word, raw);
      size_t j = i;
      while (j < n && s[j] == static_cast<char>(c))
        ++j;
      raw.push_back(s.substr(i, j - i));
      i = j - 1;
    } else if (c == '\'') {
      if (!word.empty() && is_word_byte(at(i + 1))) {  // "don't", "dog's": split by push_word
        word += '\'';
        continue;
      }
      push_word(word, raw);
      raw.emplace_back("'");
    } else {
      word += static_cast<char>(c);
    }
  }
  push_word(word, raw);
  CaptionTokens tokens;
  for (auto& t : raw)
    if (!is_dropped(t)) tokens.push_back(std::move(t));
  return tokens;
}

CocoBleu coco_bleu(const std::vector<CaptionTokens>& hypotheses,
                   const std::vector<std::vector<CaptionTokens>>& references) {
  check_sizes(hypotheses.size(), references);
  CocoBleu out;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const auto hyp_len = static_cast<double>(hypotheses[i].size());
    NgramCounts max_ref;
    double closest = -1;
    for (const CaptionTokens& ref : references[i]) {
      const auto len = static_cast<double>(ref.size());
      // min over (|len - hyp_len|, len): the closest length, ties to the shorter.
      const double d = std::abs(len - hyp_len), best = std::abs(closest - hyp_len);
      if (closest < 0 || d < best || (d == best && len < closest)) closest = len;
      for (const auto& [ngram, count] : count_ngrams(ref))
        max_ref[ngram] = std::max(max_ref[ngram], count);
    }
    out.hyp_len += hyp_len;
    out.ref_len += closest;
    for (size_t k = 0; k < 4; ++k)
      out.guess[k] += hypotheses[i].size() >= k + 1 ? hypotheses[i].size() - k : 0;
    for (const auto& [ngram, count] : count_ngrams(hypotheses[i])) {
      const auto it = max_ref.find(ngram);
      if (it != max_ref.end())
        out.correct[ngram_order(ngram) - 1] += static_cast<size_t>(std::min(count, it->second));
    }
  }
  // pycocoevalcap's constants: tiny keeps a zero count at zero, small avoids dividing by zero.
  constexpr double tiny = 1e-15, small = 1e-9;
  double product = 1;
  for (int k = 0; k < 4; ++k) {
    product *=
        (static_cast<double>(out.correct[k]) + tiny) / (static_cast<double>(out.guess[k]) + small);
    out.bleu[k] = std::pow(product, 1.0 / (k + 1));
  }
  const double ratio = (out.hyp_len + tiny) / (out.ref_len + small);
  if (ratio < 1)
    for (double& b : out.bleu)
      b *= std::exp(1 - 1 / ratio);
  return out;
}

namespace {

// One caption as CIDEr-D's tf-idf vectors, one per n-gram order.
struct CiderVector {
  std::unordered_map<std::string, double> vec[4];
  double norm[4] = {0, 0, 0, 0};
  double length = 0;  // the bigram count (pycocoevalcap's `if n == 1: length += term_freq`)
};

CiderVector cider_vector(const NgramCounts& counts,
                         const std::unordered_map<std::string, int>& doc_freq, double log_images) {
  CiderVector v;
  for (const auto& [ngram, tf] : counts) {
    const auto it = doc_freq.find(ngram);
    const double df = std::log(std::max(1.0, it == doc_freq.end() ? 0.0 : it->second));
    const int n = ngram_order(ngram) - 1;
    const double value = tf * (log_images - df);
    v.vec[n][ngram] = value;
    v.norm[n] += value * value;
    if (n == 1) v.length += tf;
  }
  for (double& norm : v.norm)
    norm = std::sqrt(norm);
  return v;
}

}  // namespace

CiderD cider_d(const std::vector<CaptionTokens>& hypotheses,
               const std::vector<std::vector<CaptionTokens>>& references, double sigma) {
  check_sizes(hypotheses.size(), references);
  CiderD out;
  if (hypotheses.empty()) return out;
  // Document frequency: in how many images' reference sets each n-gram occurs.
  std::vector<std::vector<NgramCounts>> ref_counts(references.size());
  std::unordered_map<std::string, int> doc_freq;
  for (size_t i = 0; i < references.size(); ++i) {
    std::unordered_set<std::string> seen;
    for (const CaptionTokens& ref : references[i]) {
      ref_counts[i].push_back(count_ngrams(ref));
      for (const auto& entry : ref_counts[i].back())
        seen.insert(entry.first);
    }
    for (const std::string& ngram : seen)
      ++doc_freq[ngram];
  }
  const double log_images = std::log(static_cast<double>(references.size()));
  double total = 0;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const CiderVector hyp = cider_vector(count_ngrams(hypotheses[i]), doc_freq, log_images);
    double score[4] = {0, 0, 0, 0};
    for (const NgramCounts& counts : ref_counts[i]) {
      const CiderVector ref = cider_vector(counts, doc_freq, log_images);
      const double delta = hyp.length - ref.length;
      const double penalty = std::exp(-(delta * delta) / (2 * sigma * sigma));
      for (int n = 0; n < 4; ++n) {
        double val = 0;
        for (const auto& [ngram, h] : hyp.vec[n]) {
          const auto it = ref.vec[n].find(ngram);
          if (it != ref.vec[n].end()) val += std::min(h, it->second) * it->second;  // clipped
        }
        if (hyp.norm[n] != 0 && ref.norm[n] != 0) val /= hyp.norm[n] * ref.norm[n];
        score[n] += val * penalty;
      }
    }
    const double image_score = (score[0] + score[1] + score[2] + score[3]) / 4 /
                               static_cast<double>(ref_counts[i].size()) * 10.0;
    out.per_image.push_back(image_score);
    total += image_score;
  }
  out.score = total / static_cast<double>(hypotheses.size());
  return out;
}

CaptionScores score_captions(const std::vector<std::string>& hypotheses,
                             const std::vector<std::vector<std::string>>& references) {
  S2S_CHECK(hypotheses.size() == references.size(), "caption metrics: ", hypotheses.size(),
            " hypotheses but references for ", references.size(), " images");
  std::vector<CaptionTokens> hyp;
  std::vector<std::vector<CaptionTokens>> refs(references.size());
  CaptionScores scores;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    hyp.push_back(tokenize_caption(hypotheses[i]));
    for (const std::string& r : references[i])
      refs[i].push_back(tokenize_caption(r));
    scores.references += references[i].size();
  }
  scores.images = hypotheses.size();
  scores.bleu = coco_bleu(hyp, refs);
  scores.cider = cider_d(hyp, refs);
  return scores;
}

}  // namespace s2s
