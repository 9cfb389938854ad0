// Next-sentence pairs and the Brown corpus reader.
#include "reply/pretraining.h"

#include "reply/response_set.h"
#include "reply/threads.h"

namespace s2s::reply {

std::string last_words(const std::string& collapsed, size_t max_words) {
  if (max_words == 0) return collapsed;
  size_t words = 0;
  for (size_t i = collapsed.size(); i-- > 0;)
    if (collapsed[i] == ' ' && ++words == max_words) return collapsed.substr(i + 1);
  return collapsed;
}

std::vector<std::pair<std::string, std::string>> next_sentence_pairs(
    const std::vector<std::vector<std::string>>& paragraphs, const NextSentenceOptions& options) {
  std::vector<std::pair<std::string, std::string>> pairs;
  const auto add = [&](const std::string& context, const std::string& sentence) {
    const std::string source = last_words(collapse_whitespace(context), options.max_source_words);
    const std::string target = first_words(collapse_whitespace(sentence), options.max_target_words);
    if (!source.empty() && !target.empty()) pairs.emplace_back(source, target);
  };
  for (size_t p = 0; p < paragraphs.size(); ++p) {
    std::string before;  // this paragraph's sentences so far
    for (size_t s = 0; s < paragraphs[p].size(); ++s) {
      if (s == 0 && p > 0) {
        std::string previous;
        for (const std::string& sentence : paragraphs[p - 1])
          previous += sentence + " ";
        add(previous, paragraphs[p][s]);
      } else if (s > 0) {
        add(before, paragraphs[p][s]);
      }
      before += paragraphs[p][s] + " ";
    }
  }
  return pairs;
}

namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  const std::string collapsed = collapse_whitespace(text);
  for (size_t start = 0; start < collapsed.size();) {
    size_t end = collapsed.find(' ', start);
    if (end == std::string::npos) end = collapsed.size();
    if (end > start) words.push_back(collapsed.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

std::string join_words(const std::vector<std::string>& words, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> in_context_pairs(
    const std::vector<std::vector<std::string>>& paragraphs, const NextSentenceOptions& options,
    int percent) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (percent <= 0) return pairs;
  for (size_t p = 0; p < paragraphs.size(); ++p) {
    for (size_t s = 0; s < paragraphs[p].size(); ++s) {
      const std::string& sentence = paragraphs[p][s];
      if (fnv1a64(sentence) % 100 >= static_cast<uint64_t>(percent)) continue;
      const std::string target =
          first_words(collapse_whitespace(sentence), options.max_target_words);
      if (target.empty()) continue;
      std::string before, after;
      if (p > 0)
        for (const std::string& other : paragraphs[p - 1])
          before += other + " ";
      for (size_t o = 0; o < paragraphs[p].size(); ++o) {
        if (o < s) before += paragraphs[p][o] + " ";
        if (o > s) after += paragraphs[p][o] + " ";
      }
      const std::vector<std::string> words_before = split_words(before);
      const std::vector<std::string> words_in = split_words(sentence);
      const std::vector<std::string> words_after = split_words(after);
      if (words_before.empty() && words_after.empty()) continue;  // nothing but the sentence
      // Up to half the room left after the sentence goes to what follows it, the rest (and what
      // the following words leave) to what came before: the sentence sits inside its context.
      const size_t room = options.max_source_words > words_in.size()
                              ? options.max_source_words - words_in.size()
                              : 0;
      size_t take_after = std::min(words_after.size(), room / 2);
      const size_t take_before = std::min(words_before.size(), room - take_after);
      take_after = std::min(words_after.size(), room - take_before);
      std::string source =
          join_words(words_before, words_before.size() - take_before, words_before.size());
      const std::string middle = join_words(words_in, 0, words_in.size());
      const std::string end = join_words(words_after, 0, take_after);
      for (const std::string* part : {&middle, &end})
        if (!part->empty()) source += (source.empty() ? "" : " ") + *part;
      pairs.emplace_back(std::move(source), target);
    }
  }
  return pairs;
}

std::string brown_sentence(std::string_view tagged_line) {
  std::string out;
  bool attach_next = false;  // after an opening quote
  for (size_t start = 0; start < tagged_line.size();) {
    while (start < tagged_line.size() &&
           (tagged_line[start] == ' ' || tagged_line[start] == '\t' || tagged_line[start] == '\r'))
      ++start;
    if (start >= tagged_line.size()) break;
    size_t end = tagged_line.find_first_of(" \t\r", start);
    if (end == std::string_view::npos) end = tagged_line.size();
    std::string_view token = tagged_line.substr(start, end - start);
    start = end;
    const size_t slash = token.rfind('/');
    if (slash != std::string_view::npos && slash > 0) token = token.substr(0, slash);
    if (token == "``") {
      if (!out.empty()) out += ' ';
      out += '"';
      attach_next = true;
      continue;
    }
    const bool closing = token == "''" || token == "." || token == "," || token == ";" ||
                         token == ":" || token == "?" || token == "!" || token == ")" ||
                         token == "'";
    if (!out.empty() && !closing && !attach_next) out += ' ';
    out += token == "''" ? std::string_view("\"") : token;
    attach_next = token == "(";
  }
  return out;
}

}  // namespace s2s::reply
