// Ranking metrics of smart reply on held-out pairs: each message's true reply is mapped to an
// intent cluster (ResponseMatcher), and a ranking of clusters is judged by recall@k (the true
// cluster is among the first k) and MRR (mean of 1/rank, 0 when not ranked at all).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "reply/response_set.h"

namespace s2s::reply {

class RankingMetrics {
 public:
  explicit RankingMetrics(size_t k = 3) : k_(k) {}
  void add(size_t rank);  // 1-based rank of the true cluster; 0: it was not ranked
  size_t count() const { return count_; }
  size_t k() const { return k_; }
  double recall() const { return count_ ? static_cast<double>(hits_) / count_ : 0; }  // recall@k
  double mrr() const { return count_ ? reciprocal_sum_ / count_ : 0; }

 private:
  size_t k_;
  size_t count_ = 0, hits_ = 0;
  double reciprocal_sum_ = 0;
};

// Cluster names by total prior mass (sum of exp(prior) of their responses), largest first; ties
// in order of first appearance in the file. The frequency baseline proposes the first k.
std::vector<std::string> clusters_by_prior(const std::vector<Response>& responses);

}  // namespace s2s::reply
