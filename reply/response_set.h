// The response set of smart reply: the short, vetted replies a model may suggest, each with its
// intent cluster and prior. Built from the replies of training pairs:
// 1. candidate: the whole reply if it has at most max_tokens words (CandidateMode::kWholeReply),
//    or its first sentence (after a salutation line such as "Hi Joe,") cut to max_tokens words
//    (kFirstSentence, the fallback for corpora with few short replies; a first line that is only
//    a salutation, "Hi all," or "Craig,", is skipped);
// 2. key: normalize_response (NFKC + Unicode case folding by ICU, white space collapsed, trailing
//    punctuation removed): candidates with the same key are one response, shown in its most
//    frequent written form; a key that does not read as words (fewer letters than other
//    characters, or an address or path: ":)", "1", "/var/log/cron") is no response;
// 3. kept: responses seen at least min_count times, the max_responses most frequent (among equal
//    counts the shorter, then by key);
// 4. clusters: responses are nodes of a graph whose edges join pairs with a character-trigram
//    cosine similarity of their keys of at least `similarity`; seeds are chosen greedily in order
//    of frequency (a response is a seed when no earlier seed is that similar to it), then label
//    propagation (seeds clamped, synchronous updates, each node taking the cluster with the
//    largest summed edge weight among its neighbours, ties to the lower cluster) runs until
//    nothing changes. Everything is ordered by (count desc, words asc, key asc): the result is
//    deterministic. A cluster is named by its seed's text. This is lexical, not semantic,
//    similarity: "thanks" and "thanks a lot" meet, "yes" and "sure" do not; edit the file to
//    merge such clusters by hand.
// The file: '#' comment lines (so no response starts with '#'), then
// "response<TAB>cluster<TAB>prior" per line, prior = natural log of the response's relative
// frequency among the kept responses. Blank lines are skipped; a user may edit texts, move
// responses between clusters, rename clusters and change priors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace s2s::reply {

enum class CandidateMode { kWholeReply, kFirstSentence };
CandidateMode parse_candidate_mode(const std::string& name);  // "reply" | "first-sentence"

struct ResponseOptions {
  CandidateMode candidate = CandidateMode::kWholeReply;  // which part of a reply is a candidate
  size_t max_tokens = 12;  // longer candidates are skipped (kWholeReply) or cut (kFirstSentence)
  size_t min_count = 2;    // responses seen fewer times are dropped
  size_t max_responses = 1000;  // at most this many, the most frequent
  double similarity = 0.5;      // trigram cosine for a graph edge and for a new seed, in (0, 1]
  int max_iterations = 50;      // label propagation rounds at most
};

struct Response {
  std::string text;     // as shown: the most frequent written form, white space collapsed
  std::string cluster;  // intent cluster name
  double prior = 0;     // log relative frequency (<= 0)
  size_t count = 0;     // times seen (0 when read from a file)
};

struct ResponseSetStats {
  size_t replies = 0;     // replies given
  size_t candidates = 0;  // replies that gave a candidate
  size_t distinct = 0;    // distinct keys among the candidates
  size_t kept = 0;        // responses kept
  size_t clusters = 0;    // clusters
  size_t kept_mass = 0;   // candidates whose key was kept
};

// NFKC + case folding, white space runs -> one space, trimmed, trailing punctuation removed.
// Input must be valid UTF-8 (InputError otherwise).
std::string normalize_response(std::string_view text);
// Whether a key reads as words: at least half of its non-space characters are letters, and no
// address or path ("1", ":)", "/var/log/cron", "joe@example.org" are not responses), and it
// does not start with '#' (a comment in the response file).
bool looks_like_text(std::string_view key);
// White space runs -> one space, trimmed (the displayed form).
std::string collapse_whitespace(std::string_view text);
// The first max_words space-separated words of collapsed text (all when max_words is 0).
std::string first_words(const std::string& collapsed, size_t max_words);
// Where the sentence of collapsed text starting at `from` ends (one past its '.', '!' or '?'
// followed by a space or the end; not after a single letter, an abbreviation with a dot or a
// title such as "Mr"), or text.size().
size_t sentence_end(const std::string& text, size_t from);
// The paragraphs of a text (blank lines between them), each as its sentences, collapsed.
std::vector<std::vector<std::string>> paragraph_sentences(std::string_view text);
// The candidate response of a reply, or "" when it gives none.
std::string candidate_response(std::string_view reply, CandidateMode mode, size_t max_tokens);

// Builds the set from replies (each a full reply text). Responses come ordered by count.
std::vector<Response> build_response_set(const std::vector<std::string>& replies,
                                         const ResponseOptions& options,
                                         ResponseSetStats* stats = nullptr);

// Writes the file atomically; comment lines (without '#') go first.
void write_response_set(const std::vector<Response>& responses, const std::string& path,
                        const std::vector<std::string>& comment = {});
// Reads a file written by write_response_set or edited by hand. InputError naming path:line for
// a line without three tab-separated fields, an empty response or cluster, a prior that is not a
// finite number <= 0, invalid UTF-8, or a response whose key repeats an earlier line's.
std::vector<Response> read_response_set(const std::string& path);

// Character-trigram vector of a key (bytes of " key "), for cosine similarity.
struct TrigramVector {
  std::vector<std::pair<uint32_t, float>> entries;  // sorted by trigram, weights L2-normalized
};
TrigramVector trigram_vector(std::string_view key);
double cosine(const TrigramVector& a, const TrigramVector& b);

// Maps reply text to the nearest response of a set: the same key -> that response; otherwise the
// response of highest trigram cosine (ties to the earlier one); -1 when none shares a trigram.
class ResponseMatcher {
 public:
  explicit ResponseMatcher(const std::vector<Response>& responses);
  struct Match {
    int index = -1;         // into responses, -1: none
    double similarity = 0;  // 1 for an exact key match
  };
  Match nearest(std::string_view text) const;

 private:
  std::vector<std::string> keys_;
  std::vector<TrigramVector> vectors_;
};

}  // namespace s2s::reply
