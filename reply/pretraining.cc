// Next-sentence pairs and the Brown corpus reader.
#include "reply/pretraining.h"

#include "reply/response_set.h"

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
