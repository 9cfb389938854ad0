// Corpus BLEU computed exactly as sacreBLEU 2.x computes its default: the 13a (mteval-v13a)
// tokenizer, n-grams up to 4, clipped counts over all references, the closest reference length
// (ties: the shorter) for the brevity penalty, and sacreBLEU's default 'exp' smoothing, which
// changes a score only when some n-gram order has no match at all.
#pragma once

#include <string>
#include <vector>

namespace s2s {

// mteval-v13a tokenisation, as sacreBLEU's tok:13a.
std::vector<std::string> tokenize_13a(const std::string& line);

struct BleuStats {
  double correct[4] = {0, 0, 0, 0};  // clipped n-gram matches, n = 1..4
  double total[4] = {0, 0, 0, 0};    // hypothesis n-grams
  double hyp_len = 0;
  double ref_len = 0;

  void add(const BleuStats& other);
};

struct BleuScore {
  double score = 0;        // 0..100
  double precisions[4]{};  // percent
  double brevity_penalty = 0;
  double ratio = 0;  // hyp_len / ref_len
  long hyp_len = 0;
  long ref_len = 0;

  // sacreBLEU's signature, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0".
  static std::string signature(int num_refs, bool lowercase);
  // "64.1/38.2/24.9/16.7 (BP = 1.000 ratio = 1.014 hyp_len = 1234 ref_len = 1217)"
  std::string verbose() const;
  // sacreBLEU's score line, as Python's str(BLEUScore) prints it:
  //   "BLEU = 23.41 55.1/29.8/17.2/10.6 (BP = 0.982 ratio = 0.982 hyp_len = 97 ref_len = 99)".
  std::string format(int width = 2) const;
  // sacreBLEU's command-line text line: "BLEU|<signature> = 23.4 <verbose>".
  std::string format_with_signature(int num_refs, bool lowercase, int width = 1) const;
  // sacreBLEU's JSON object, with the same keys.
  std::string format_json(int num_refs, bool lowercase, int width = 1) const;
};

// Statistics of one segment against its references (at least one).
BleuStats sentence_stats(const std::string& hypothesis, const std::vector<std::string>& references,
                         bool lowercase = false);
BleuScore compute_bleu(const BleuStats& stats);

// Corpus BLEU; references[r][i] is reference r of segment i; every stream as long as hypotheses.
BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references,
                      bool lowercase = false);

}  // namespace s2s
