// The trie constraint: nodes hold their children and whether a listed sequence ends there; the
// allowed list is kept sorted so the search's candidate order never depends on insertion order.
#include "beam_search/constraint.h"

#include <algorithm>
#include <string>

#include "seq2seq/error.h"

namespace s2s {

TrieConstraint::TrieConstraint(const std::vector<std::vector<int32_t>>& sequences, int32_t eos_id)
    : eos_id_(eos_id) {
  allowed_.emplace_back();
  children_.emplace_back();
  std::vector<bool> ends(1, false);
  for (size_t i = 0; i < sequences.size(); ++i) {
    State node = 0;
    for (int32_t token : sequences[i]) {
      if (token < 0 || token == eos_id)
        throw InvalidArgument("TrieConstraint: sequence " + std::to_string(i) + " contains token " +
                              std::to_string(token) +
                              (token < 0 ? " (negative)" : " (the end-of-sequence id)"));
      auto [it, added] = children_[node].try_emplace(token, static_cast<State>(allowed_.size()));
      if (added) {
        allowed_[node].push_back(token);
        allowed_.emplace_back();
        children_.emplace_back();
        ends.push_back(false);
      }
      node = it->second;
    }
    if (!ends[node]) {
      ends[node] = true;
      ++sequences_;
      allowed_[node].push_back(eos_id_);
    }
  }
  for (auto& list : allowed_)
    std::sort(list.begin(), list.end());
}

Constraint::State TrieConstraint::start(int64_t) const {
  return 0;
}

std::span<const int32_t> TrieConstraint::allowed(State state) const {
  S2S_CHECK(state >= 0 && state < nodes(), "TrieConstraint: no node ", state);
  return allowed_[state];
}

Constraint::State TrieConstraint::advance(State state, int32_t token) const {
  S2S_CHECK(state >= 0 && state < nodes(), "TrieConstraint: no node ", state);
  const auto it = children_[state].find(token);
  S2S_CHECK(it != children_[state].end(), "TrieConstraint: token ", token,
            " is not allowed at node ", state);
  return it->second;
}

Constraint::State TrieConstraint::find(std::span<const int32_t> prefix) const {
  State node = 0;
  for (int32_t token : prefix) {
    const auto it = children_[node].find(token);
    if (it == children_[node].end()) return -1;
    node = it->second;
  }
  return node;
}

}  // namespace s2s
