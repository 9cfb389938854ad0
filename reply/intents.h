// Intents of a response set, the Smart Reply paper's way (Kannan et al., KDD 2016, section 5):
// a few intents seeded by hand with example responses (a reviewed file), then semi-supervised
// label propagation over a graph of responses and their lexical features, so that responses
// written differently ("thx a lot!", "Many thanks.") reach the intent of the seeds they share
// features with; responses that reach no intent are dropped from the set.
//
// The seeds file: '#' comment lines and blank lines, then "intent<TAB>response" lines. The
// response is compared by its key (normalize_response): it must read as text, and one key
// belongs to one intent.
//
// Features of a response key: character trigrams (as the lexical clusters use), word unigrams,
// word bigrams, skip-grams (a word and the word two ahead) and the opening word and two words
// (where a reply says its intent), each weighted by its kind and by its inverse document
// frequency over the graph's responses, so that "the" or " th" join nothing.
//
// Propagation, with hard labels as the lexical clusters use (and deterministic): seeds are
// clamped; each round every feature's label distribution is the share of the nodes holding it
// that carry each intent (unlabelled nodes count in the denominator: a feature that most
// responses share says little; a label r steps from a seed counts generation_decay^r), and a
// response's evidence for an intent is the idf-weighted sum of its features' shares. It takes the
// best intent when that evidence is at least min_share of its features' whole idf weight and at
// least `dominance` of its evidence for all intents; otherwise it has none. Rounds run until
// nothing changes (at most max_rounds). A held-out text is classified by one more such step from
// the labelled response set (IntentClassifier).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reply/response_set.h"

namespace s2s::reply {

struct IntentSeed {
  std::string intent;
  std::string text;  // as written in the file
  std::string key;   // normalize_response(text)
};

struct IntentSeeds {
  std::vector<std::string> intents;  // in order of first appearance
  std::vector<IntentSeed> seeds;
};

// InputError naming path:line for a line without exactly two tab-separated fields, an empty
// intent or response, a response that does not read as text, a key seeded twice, invalid UTF-8;
// and for a file without seeds.
IntentSeeds read_intent_seeds(const std::string& path);

// Hashed features of a response key (normalize_response form), sorted, without repeats.
std::vector<uint64_t> response_features(std::string_view key);

struct IntentOptions {
  int max_rounds = 20;      // propagation rounds at most
  double min_share = 0.12;  // evidence for the best intent / the text's whole feature weight
  double dominance = 0.5;   // evidence for the best intent / evidence for all intents
  // The best intent's evidence at least, in units of the weight of a word seen once (ln(1 + N)
  // for N responses): a telling word, whatever the set's size.
  double min_evidence = 1.0;
  double generation_decay = 0.5;  // weight of a label per propagation step away from a seed
  // An unlabelled holder of a feature counts this much against its labelled holders' shares.
  double unlabelled_weight = 0.1;
};

struct IntentStats {
  std::vector<std::string> intents;  // the seeds' intents, in their order
  size_t responses = 0;              // responses given
  size_t seeds_matched = 0;          // seeds whose key is one of the responses
  size_t seeds_unmatched = 0;        // seeds that are only graph nodes (not among the responses)
  size_t labelled = 0;               // responses that reached an intent (kept)
  std::vector<size_t> per_intent;    // kept responses per intent, in intents order
};

// Each response's intent index into seeds.intents, or -1 when it reaches none.
std::vector<int> propagate_intents(const std::vector<std::string>& response_keys,
                                   const IntentSeeds& seeds, const IntentOptions& options = {});

// The responses that reach an intent, their cluster the intent's name, priors renormalised
// (log relative count among the kept; from the old priors when counts are 0, as read from a
// file). Order kept.
std::vector<Response> label_intents(const std::vector<Response>& responses,
                                    const IntentSeeds& seeds, const IntentOptions& options = {},
                                    IntentStats* stats = nullptr);

// Which intent (cluster) of a labelled response set a text falls into: one propagation step
// from the set's responses to their features and on to the text's features, by the same rule
// (features the set never saw weigh in the whole, with the largest idf). For the product's
// measure, intent recall: a held-out reply counts only when it falls into an intent.
class IntentClassifier {
 public:
  explicit IntentClassifier(const std::vector<Response>& responses,
                            const IntentOptions& options = {});
  struct Result {
    std::string intent;  // "" when the text falls into none
    double share = 0;    // its evidence / the text's feature weight
  };
  Result classify(std::string_view text) const;  // text as written (normalized inside)

 private:
  struct FeatureLabels {
    double idf = 0;
    std::vector<float> share;  // per intent: the share of the set's responses with the feature
  };
  std::vector<std::string> intents_;
  std::vector<std::pair<uint64_t, FeatureLabels>> features_;  // sorted by feature
  double unseen_idf_ = 0;  // the weight of a feature no response of the set has
  IntentOptions options_;
};

}  // namespace s2s::reply
