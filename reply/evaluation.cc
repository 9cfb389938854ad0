// RankingMetrics and the frequency ranking of clusters.
#include "reply/evaluation.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace s2s::reply {

void RankingMetrics::add(size_t rank) {
  ++count_;
  if (rank == 0) return;
  if (rank <= k_) ++hits_;
  reciprocal_sum_ += 1.0 / static_cast<double>(rank);
}

std::vector<std::string> clusters_by_prior(const std::vector<Response>& responses) {
  std::vector<std::string> names;
  std::unordered_map<std::string, double> mass;
  for (const Response& r : responses) {
    if (!mass.count(r.cluster)) names.push_back(r.cluster);
    mass[r.cluster] += std::exp(r.prior);
  }
  std::stable_sort(names.begin(), names.end(),
                   [&](const std::string& a, const std::string& b) { return mass[a] > mass[b]; });
  return names;
}

}  // namespace s2s::reply
