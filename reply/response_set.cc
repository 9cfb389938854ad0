// Response normalization (ICU's NFKC_Casefold), candidate extraction, the trigram graph with
// label propagation, and the response file of reply/response_set.h.
#include "reply/response_set.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <regex>
#include <unordered_map>

#include "seq2seq/atomic_file.h"
#include "seq2seq/error.h"
#include "seq2seq/line_reader.h"
#include "seq2seq/utf8.h"

namespace s2s::reply {
namespace {

const icu::Normalizer2& nfkc_casefold() {
  static const icu::Normalizer2* instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status) || n == nullptr)
      throw EnvironmentError(std::string("ICU cannot load its NFKC_Casefold data: ") +
                             u_errorName(status));
    return n;
  }();
  return *instance;
}

// Code points of valid UTF-8 with their byte ranges.
struct CodePoint {
  UChar32 c;
  size_t begin, end;
};
std::vector<CodePoint> code_points(std::string_view text) {
  std::vector<CodePoint> out;
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    out.push_back({c, static_cast<size_t>(start), static_cast<size_t>(i)});
  }
  return out;
}

size_t count_tokens(std::string_view text) {
  size_t n = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

std::string first_tokens(std::string_view text, size_t max_tokens) {
  size_t n = 0, i = 0;
  bool in_word = false;
  for (; i < text.size(); ++i) {
    const bool space = text[i] == ' ';
    if (!space && !in_word && ++n > max_tokens) break;
    in_word = !space;
  }
  std::string out(text.substr(0, i));
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace

bool looks_like_text(std::string_view key) {
  size_t letters = 0, others = 0;
  for (const CodePoint& cp : code_points(key)) {
    if (cp.c == ' ') continue;
    (cp.c >= 0 && u_isalpha(cp.c) ? letters : others) += 1;
  }
  return letters > 0 && letters >= others && !key.starts_with('#') &&
         key.find('@') == std::string_view::npos && key.find("://") == std::string_view::npos &&
         key.find('/') == std::string_view::npos;
}

CandidateMode parse_candidate_mode(const std::string& name) {
  if (name == "reply") return CandidateMode::kWholeReply;
  if (name == "first-sentence") return CandidateMode::kFirstSentence;
  throw InvalidArgument("candidate mode must be reply or first-sentence, got '" + name + "'");
}

std::string first_words(const std::string& collapsed, size_t max_words) {
  if (max_words == 0) return collapsed;
  size_t words = 0;
  for (size_t i = 0; i < collapsed.size(); ++i)
    if (collapsed[i] == ' ' && ++words == max_words) return collapsed.substr(0, i);
  return collapsed;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const CodePoint& cp : code_points(text)) {
    if (cp.c < 0 || u_isUWhiteSpace(cp.c) || cp.c == 0) {
      pending_space = cp.c >= 0 || pending_space;
      if (cp.c < 0) {  // invalid bytes are not text: replaced
        if (pending_space && !out.empty()) out += ' ';
        pending_space = false;
        out += "\xEF\xBF\xBD";
      }
      continue;
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out.append(text.substr(cp.begin, cp.end - cp.begin));
  }
  return out;
}

std::string normalize_response(std::string_view text) {
  size_t bad = 0;
  if (!is_valid_utf8(text, &bad))
    throw InputError("invalid UTF-8 at byte " + std::to_string(bad + 1));
  std::string folded;
  icu::StringByteSink<std::string> sink(&folded);
  UErrorCode status = U_ZERO_ERROR;
  nfkc_casefold().normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())),
                                sink, nullptr, status);
  if (U_FAILURE(status))
    throw InputError(std::string("NFKC_Casefold failed: ") + u_errorName(status));
  std::string out = collapse_whitespace(folded);
  // Trailing punctuation and spaces, code point by code point from the end.
  for (;;) {
    const std::vector<CodePoint> cps = code_points(out);
    if (cps.empty()) break;
    const CodePoint& last = cps.back();
    if (!(u_ispunct(last.c) || u_isUWhiteSpace(last.c))) break;
    out.resize(last.begin);
  }
  return out;
}

size_t sentence_end(const std::string& text, size_t from) {
  for (size_t k = from; k < text.size(); ++k) {
    const char c = text[k];
    if ((c == '.' || c == '!' || c == '?') && (k + 1 == text.size() || text[k + 1] == ' ')) {
      // "e.g. x", "Mr. X": a terminator after a single letter or a title does not end a sentence.
      size_t w = text.rfind(' ', k);
      const size_t start = w == std::string::npos || w < from ? from : w + 1;
      const std::string_view word = std::string_view(text).substr(start, k - start);
      if (c == '.' &&
          (word.size() <= 1 || word.find('.') != std::string_view::npos || word == "Mr" ||
           word == "Dr" || word == "Mrs" || word == "Ms" || word == "vs" || word == "etc"))
        continue;
      return k + 1;
    }
  }
  return text.size();
}

std::vector<std::vector<std::string>> paragraph_sentences(std::string_view text) {
  std::vector<std::vector<std::string>> paragraphs;
  std::string paragraph;
  const auto flush = [&] {
    paragraph = collapse_whitespace(paragraph);
    if (!paragraph.empty()) {
      std::vector<std::string> sentences;
      for (size_t from = 0; from < paragraph.size();) {
        const size_t end = sentence_end(paragraph, from);
        sentences.push_back(
            collapse_whitespace(std::string_view(paragraph).substr(from, end - from)));
        if (sentences.back().empty()) sentences.pop_back();
        from = end;
      }
      paragraphs.push_back(std::move(sentences));
    }
    paragraph.clear();
  };
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      flush();
    } else {
      paragraph.append(line);
      paragraph.push_back(' ');
    }
    start = end + 1;
  }
  flush();
  return paragraphs;
}

std::string candidate_response(std::string_view reply, CandidateMode mode, size_t max_tokens) {
  if (mode == CandidateMode::kWholeReply) {
    std::string text = collapse_whitespace(reply);
    return count_tokens(text) <= max_tokens ? text : "";
  }
  // The first paragraph, less a salutation line, then its first sentence.
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < reply.size();) {
    size_t end = reply.find('\n', start);
    if (end == std::string_view::npos) end = reply.size();
    lines.push_back(reply.substr(start, end - start));
    start = end + 1;
  }
  const auto blank = [](std::string_view l) {
    return l.find_first_not_of(" \t\r") == std::string_view::npos;
  };
  size_t i = 0;
  while (i < lines.size() && blank(lines[i]))
    ++i;
  static const std::regex salutation(
      R"(^\s*(hi|hello|hey|dear|greetings|hiya|howdy|morning|all)\b[^.?]*[,!:.]?\s*$)",
      std::regex::icase);
  static const std::regex name_line(R"(^\s*[A-Z][\w'.-]*( [A-Z][\w'.-]*)?,\s*$)");
  if (i < lines.size() && count_tokens(collapse_whitespace(lines[i])) <= 4 &&
      (std::regex_search(lines[i].begin(), lines[i].end(), salutation) ||
       std::regex_search(lines[i].begin(), lines[i].end(), name_line))) {
    ++i;
    while (i < lines.size() && blank(lines[i]))
      ++i;
  }
  std::string paragraph;
  for (; i < lines.size() && !blank(lines[i]); ++i) {
    paragraph += lines[i];
    paragraph += ' ';
  }
  paragraph = collapse_whitespace(paragraph);
  const size_t cut = sentence_end(paragraph, 0);
  return first_tokens(std::string_view(paragraph).substr(0, cut), max_tokens);
}

TrigramVector trigram_vector(std::string_view key) {
  std::string padded;  // built by appends: GCC 12's -Wrestrict misfires on " " + key + " " at -O3
  padded.reserve(key.size() + 2);
  padded.push_back(' ');
  padded.append(key);
  padded.push_back(' ');
  std::map<uint32_t, float> counts;
  for (size_t i = 0; i + 3 <= padded.size(); ++i)
    counts[fnv1a(std::string_view(padded).substr(i, 3))] += 1;
  if (padded.size() < 3) counts[fnv1a(padded)] += 1;
  TrigramVector v;
  double norm = 0;
  for (const auto& [g, c] : counts)
    norm += static_cast<double>(c) * c;
  norm = std::sqrt(norm);
  for (const auto& [g, c] : counts)
    v.entries.emplace_back(g, static_cast<float>(c / norm));
  return v;
}

double cosine(const TrigramVector& a, const TrigramVector& b) {
  double dot = 0;
  size_t i = 0, j = 0;
  while (i < a.entries.size() && j < b.entries.size()) {
    if (a.entries[i].first < b.entries[j].first) {
      ++i;
    } else if (a.entries[i].first > b.entries[j].first) {
      ++j;
    } else {
      dot += static_cast<double>(a.entries[i].second) * b.entries[j].second;
      ++i;
      ++j;
    }
  }
  return dot;
}

std::vector<Response> build_response_set(const std::vector<std::string>& replies,
                                         const ResponseOptions& options, ResponseSetStats* stats) {
  S2S_CHECK(options.similarity > 0 && options.similarity <= 1,
            "response similarity must be in (0, 1], got ", options.similarity);
  S2S_CHECK(options.max_tokens > 0, "response max tokens must be positive");
  ResponseSetStats s;
  s.replies = replies.size();
  struct Entry {
    size_t count = 0;
    std::map<std::string, size_t> forms;  // written form -> count
  };
  std::unordered_map<std::string, Entry> by_key;
  for (const std::string& reply : replies) {
    const std::string candidate = candidate_response(reply, options.candidate, options.max_tokens);
    if (candidate.empty()) continue;
    const std::string key = normalize_response(candidate);
    if (!looks_like_text(key)) continue;
    ++s.candidates;
    Entry& e = by_key[key];
    ++e.count;
    ++e.forms[candidate];
  }
  s.distinct = by_key.size();
  struct Kept {
    std::string key, text;
    size_t count;
  };
  std::vector<Kept> kept;
  for (const auto& [key, e] : by_key) {
    if (e.count < options.min_count) continue;
    // The most frequent form; ties to the smallest (std::map order, strict >).
    const std::string* best = nullptr;
    size_t best_count = 0;
    for (const auto& [form, c] : e.forms)
      if (c > best_count) {
        best = &form;
        best_count = c;
      }
    kept.push_back({key, *best, e.count});
  }
  // Most frequent first; among equals the shorter (a better suggestion), then by key.
  std::sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) {
    if (a.count != b.count) return a.count > b.count;
    const size_t wa = count_tokens(a.key), wb = count_tokens(b.key);
    return wa != wb ? wa < wb : a.key < b.key;
  });
  if (kept.size() > options.max_responses) kept.resize(options.max_responses);
  const size_t n = kept.size();
  std::vector<TrigramVector> vectors;
  for (const Kept& k : kept)
    vectors.push_back(trigram_vector(k.key));
  // The similarity graph (n is at most max_responses: a dense pass is fine).
  std::vector<std::vector<std::pair<size_t, double>>> neighbours(n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const double sim = cosine(vectors[i], vectors[j]);
      if (sim >= options.similarity) {
        neighbours[i].emplace_back(j, sim);
        neighbours[j].emplace_back(i, sim);
      }
    }
  // Seeds: greedy in order of frequency.
  std::vector<int> label(n, -1);
  std::vector<size_t> seeds;
  std::vector<bool> is_seed(n, false);
  for (size_t i = 0; i < n; ++i) {
    const bool near_seed = std::any_of(neighbours[i].begin(), neighbours[i].end(),
                                       [&](const auto& edge) { return is_seed[edge.first]; });
    if (!near_seed) {
      label[i] = static_cast<int>(seeds.size());
      seeds.push_back(i);
      is_seed[i] = true;
    }
  }
  // Label propagation, seeds clamped, synchronous rounds.
  for (int round = 0; round < options.max_iterations; ++round) {
    std::vector<int> next = label;
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      if (is_seed[i]) continue;
      std::map<int, double> votes;
      for (const auto& [j, sim] : neighbours[i])
        if (label[j] >= 0) votes[label[j]] += sim;
      int best = label[i];
      double best_vote = best >= 0 && votes.count(best) ? votes[best] : -1;
      for (const auto& [l, v] : votes)
        if (v > best_vote + 1e-12 || (std::abs(v - best_vote) <= 1e-12 && l < best)) {
          best = l;
          best_vote = v;
        }
      if (best != label[i]) {
        next[i] = best;
        changed = true;
      }
    }
    label = std::move(next);
    if (!changed) break;
  }
  size_t total = 0;
  for (const Kept& k : kept)
    total += k.count;
  std::vector<Response> out;
  for (size_t i = 0; i < n; ++i) {
    const int l = label[i] >= 0 ? label[i] : 0;  // every non-seed has a seed neighbour: unreachable
    out.push_back({kept[i].text, kept[seeds[static_cast<size_t>(l)]].text,
                   std::log(static_cast<double>(kept[i].count) / static_cast<double>(total)),
                   kept[i].count});
  }
  s.kept = n;
  s.clusters = seeds.size();
  s.kept_mass = total;
  if (stats) *stats = s;
  return out;
}

void write_response_set(const std::vector<Response>& responses, const std::string& path,
                        const std::vector<std::string>& comment) {
  std::string text;
  text += "# s2s response set: response<TAB>cluster<TAB>prior, prior = ln(relative frequency)\n";
  for (const std::string& line : comment)
    text += "# " + line + "\n";
  char prior[32];
  for (const Response& r : responses) {
    S2S_CHECK(r.text.find_first_of("\t\n") == std::string::npos &&
                  r.cluster.find_first_of("\t\n") == std::string::npos,
              "response '", r.text, "' or its cluster holds a tab or newline");
    S2S_CHECK(!r.text.starts_with('#'), "response '", r.text,
              "' starts with '#', which the response file reads as a comment");
    const auto [end, ec] =
        std::to_chars(prior, prior + sizeof prior, r.prior, std::chars_format::fixed, 6);
    text += r.text + "\t" + r.cluster + "\t" + std::string(prior, end) + "\n";
  }
  write_file_atomically(path, text);
}

std::vector<Response> read_response_set(const std::string& path) {
  LineReader reader(path);
  std::vector<Response> responses;
  std::unordered_map<std::string, size_t> seen;  // key -> line
  std::string line;
  for (;;) {
    try {
      if (!reader.next(line)) break;
    } catch (const InputError& e) {
      throw;  // invalid UTF-8, over-long line: the message names path:line already
    }
    if (line.empty() || line[0] == '#' || line.find_first_not_of(" \t") == std::string::npos)
      continue;
    const std::string at = reader.location();
    const size_t t1 = line.find('\t');
    const size_t t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string::npos || line.find('\t', t2 + 1) != std::string::npos)
      throw InputError(at + ": expected response<TAB>cluster<TAB>prior");
    Response r;
    r.text = collapse_whitespace(line.substr(0, t1));
    r.cluster = collapse_whitespace(line.substr(t1 + 1, t2 - t1 - 1));
    const std::string prior = line.substr(t2 + 1);
    if (r.text.empty()) throw InputError(at + ": empty response");
    if (r.cluster.empty()) throw InputError(at + ": empty cluster");
    const auto [end, ec] = std::from_chars(prior.data(), prior.data() + prior.size(), r.prior);
    if (ec != std::errc() || end != prior.data() + prior.size() || !std::isfinite(r.prior) ||
        r.prior > 0)
      throw InputError(at + ": prior must be a finite number <= 0 (a log frequency), got '" +
                       prior + "'");
    const std::string key = normalize_response(r.text);
    if (key.empty()) throw InputError(at + ": response '" + r.text + "' is only punctuation");
    const auto [it, inserted] = seen.emplace(key, reader.line_number());
    if (!inserted)
      throw InputError(at + ": response '" + r.text + "' repeats line " +
                       std::to_string(it->second) + " (same text after normalization)");
    responses.push_back(std::move(r));
  }
  if (responses.empty()) throw InputError(path + ": no responses");
  return responses;
}

ResponseMatcher::ResponseMatcher(const std::vector<Response>& responses) {
  for (const Response& r : responses) {
    keys_.push_back(normalize_response(r.text));
    vectors_.push_back(trigram_vector(keys_.back()));
  }
}

ResponseMatcher::Match ResponseMatcher::nearest(std::string_view text) const {
  Match match;
  const std::string key = normalize_response(collapse_whitespace(text));
  if (key.empty()) return match;
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return {static_cast<int>(i), 1.0};
  const TrigramVector v = trigram_vector(key);
  for (size_t i = 0; i < keys_.size(); ++i) {
    const double sim = cosine(v, vectors_[i]);
    if (sim > match.similarity + 1e-12) match = {static_cast<int>(i), sim};
  }
  return match;
}

}  // namespace s2s::reply
