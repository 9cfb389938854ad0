// sacreBLEU-compatible corpus BLEU.
#include "seq2seq/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "seq2seq/error.h"
#include "seq2seq/runtime.h"
#include "seq2seq/utf8.h"

namespace s2s {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

// The symbols the 13a tokenizer's first rule splits off: {|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ /
bool is_13a_symbol(unsigned char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

// The three later rules of 13a, each a left-to-right, non-overlapping substitution as Python's
// re.sub performs it. Bytes stand in for code points safely: every rule only inserts spaces next
// to ASCII punctuation, and UTF-8 continuation bytes never match an ASCII class.
std::string split_period_comma_after_non_digit(const std::string& s) {  // ([^0-9])([\.,]) -> \1 \2
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && !is_digit(s[i]) && (s[i + 1] == '.' || s[i + 1] == ',')) {
      out += s[i];
      out += ' ';
      out += s[i + 1];
      out += ' ';
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}
std::string split_period_comma_before_non_digit(const std::string& s) {  // ([\.,])([^0-9]) -> \1 \2
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && !is_digit(s[i + 1])) {
      out += ' ';
      out += s[i];
      out += ' ';
      out += s[i + 1];
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}
std::string split_dash_after_digit(const std::string& s) {  // ([0-9])(-) -> \1 \2
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && is_digit(s[i]) && s[i + 1] == '-') {
      out += s[i];
      out += " - ";
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// The UTF-8 length of the whitespace code point at s[i] by Python's str.isspace(), or 0.
size_t whitespace_bytes(const std::string& s, size_t i) {
  const auto at = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0; };
  const unsigned char c = at(i);
  if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c == 0xc2 && (at(i + 1) == 0x85 || at(i + 1) == 0xa0)) return 2;
  if (c == 0xe1 && at(i + 1) == 0x9a && at(i + 2) == 0x80) return 3;  // U+1680
  if (c == 0xe2 && at(i + 1) == 0x80) {
    const unsigned char d = at(i + 2);
    if ((d >= 0x80 && d <= 0x8a) || d == 0xa8 || d == 0xa9 || d == 0xaf) return 3;
  }
  if (c == 0xe2 && at(i + 1) == 0x81 && at(i + 2) == 0x9f) return 3;  // U+205F
  if (c == 0xe3 && at(i + 1) == 0x80 && at(i + 2) == 0x80) return 3;  // U+3000
  return 0;
}

using NgramCounts = std::map<std::string, int>;

NgramCounts count_ngrams(const std::vector<std::string>& tokens) {
  NgramCounts counts;
  for (size_t n = 1; n <= 4; ++n)
    for (size_t i = 0; i + n <= tokens.size(); ++i) {
      std::string key = tokens[i];
      for (size_t j = 1; j < n; ++j)
        key += '\x01' + tokens[i + j];  // \x01 never in a token
      ++counts[key];
    }
  return counts;
}

int ngram_order(const std::string& key) {
  return 1 + static_cast<int>(std::count(key.begin(), key.end(), '\x01'));
}

}  // namespace

std::vector<std::string> tokenize_13a(const std::string& input) {
  std::string line = input;
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  std::string spaced = " ";
  for (unsigned char c : line) {
    if (is_13a_symbol(c)) {
      spaced += ' ';
      spaced += static_cast<char>(c);
      spaced += ' ';
    } else {
      spaced += static_cast<char>(c);
    }
  }
  spaced += ' ';
  spaced = split_dash_after_digit(
      split_period_comma_before_non_digit(split_period_comma_after_non_digit(spaced)));
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < spaced.size()) {  // Python's str.split(): runs of Unicode whitespace separate tokens
    while (i < spaced.size() && whitespace_bytes(spaced, i))
      i += whitespace_bytes(spaced, i);
    size_t j = i;
    while (j < spaced.size() && !whitespace_bytes(spaced, j))
      ++j;
    if (j > i) tokens.push_back(spaced.substr(i, j - i));
    i = j;
  }
  return tokens;
}

void BleuStats::add(const BleuStats& other) {
  for (int n = 0; n < 4; ++n) {
    correct[n] += other.correct[n];
    total[n] += other.total[n];
  }
  hyp_len += other.hyp_len;
  ref_len += other.ref_len;
}

BleuStats sentence_stats(const std::string& hypothesis, const std::vector<std::string>& references,
                         bool lowercase) {
  S2S_CHECK(!references.empty(), "BLEU needs at least one reference");
  const auto hyp = tokenize_13a(lowercase ? utf8_lowercase(hypothesis) : hypothesis);
  BleuStats stats;
  stats.hyp_len = static_cast<double>(hyp.size());
  NgramCounts max_ref_counts;
  double closest_len = -1;
  for (const std::string& reference : references) {
    const auto ref = tokenize_13a(lowercase ? utf8_lowercase(reference) : reference);
    const double len = static_cast<double>(ref.size());
    const double diff = std::abs(len - stats.hyp_len), best = std::abs(closest_len - stats.hyp_len);
    if (closest_len < 0 || diff < best || (diff == best && len < closest_len)) closest_len = len;
    for (const auto& [ngram, count] : count_ngrams(ref))
      max_ref_counts[ngram] = std::max(max_ref_counts[ngram], count);
  }
  stats.ref_len = closest_len;
  for (const auto& [ngram, count] : count_ngrams(hyp)) {
    const int n = ngram_order(ngram) - 1;
    stats.total[n] += count;
    const auto it = max_ref_counts.find(ngram);
    if (it != max_ref_counts.end()) stats.correct[n] += std::min(count, it->second);
  }
  return stats;
}

BleuScore compute_bleu(const BleuStats& stats) {
  BleuScore s;
  s.hyp_len = static_cast<long>(stats.hyp_len);
  s.ref_len = static_cast<long>(stats.ref_len);
  s.ratio = stats.ref_len > 0 ? stats.hyp_len / stats.ref_len : 0;
  if (stats.hyp_len == 0) return s;  // no hypothesis words: BLEU 0, BP 0 (as sacreBLEU)
  double smooth = 1.0;
  for (int n = 0; n < 4; ++n) {
    if (stats.total[n] == 0) break;
    if (stats.correct[n] == 0) {  // 'exp' smoothing
      smooth *= 2;
      s.precisions[n] = 100.0 / (smooth * stats.total[n]);
    } else {
      s.precisions[n] = 100.0 * stats.correct[n] / stats.total[n];
    }
  }
  s.brevity_penalty =
      stats.hyp_len >= stats.ref_len ? 1.0 : std::exp(1.0 - stats.ref_len / stats.hyp_len);
  double log_sum = 0;
  for (double p : s.precisions)
    log_sum += p > 0 ? std::log(p) : -9999999999.0;
  s.score = s.brevity_penalty * std::exp(log_sum / 4);
  return s;
}

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references, bool lowercase) {
  S2S_CHECK(!references.empty(), "BLEU needs at least one reference stream");
  for (size_t r = 0; r < references.size(); ++r)
    S2S_CHECK(references[r].size() == hypotheses.size(), "reference stream ", r + 1, " has ",
              references[r].size(), " lines, the hypotheses ", hypotheses.size());
  BleuStats total;
  std::vector<std::string> refs(references.size());
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    for (size_t r = 0; r < references.size(); ++r)
      refs[r] = references[r][i];
    total.add(sentence_stats(hypotheses[i], refs, lowercase));
  }
  return compute_bleu(total);
}

std::string BleuScore::signature(int num_refs, bool lowercase) {
  return "nrefs:" + std::to_string(num_refs) + "|case:" + (lowercase ? "lc" : "mixed") +
         "|eff:no|tok:13a|smooth:exp|version:s2s-" + version();
}

std::string BleuScore::verbose() const {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer,
                "%.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %ld ref_len = %ld)",
                precisions[0], precisions[1], precisions[2], precisions[3], brevity_penalty, ratio,
                hyp_len, ref_len);
  return buffer;
}

namespace {
std::string fixed(double v, int width) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", width, v);
  return buffer;
}
}  // namespace

std::string BleuScore::format(int width) const {
  return "BLEU = " + fixed(score, width) + " " + verbose();
}

std::string BleuScore::format_with_signature(int num_refs, bool lowercase, int width) const {
  return "BLEU|" + signature(num_refs, lowercase) + " = " + fixed(score, width) + " " + verbose();
}

std::string BleuScore::format_json(int num_refs, bool lowercase, int width) const {
  const std::string sig = signature(num_refs, lowercase);
  return "{\n \"name\": \"BLEU\",\n \"score\": " + fixed(score, width) + ",\n \"signature\": \"" +
         sig + "\",\n \"verbose_score\": \"" + verbose() + "\",\n \"nrefs\": \"" +
         std::to_string(num_refs) + "\",\n \"case\": \"" + (lowercase ? "lc" : "mixed") +
         "\",\n \"eff\": \"no\",\n \"tok\": \"13a\",\n \"smooth\": \"exp\",\n \"version\": \"s2s-" +
         version() + "\"\n}";
}

}  // namespace s2s
