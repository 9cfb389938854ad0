// Constraint: restricts which tokens each hypothesis of a search may emit next. The search keeps
// one opaque state per hypothesis (for the trie, a node), asks for the allowed tokens of that
// state and advances it with the chosen token. TrieConstraint, the first user, allows exactly the
// output sequences of a fixed list (the reply issue scores a set of vetted responses with it).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace s2s {

class Constraint {
 public:
  using State = int64_t;
  virtual ~Constraint() = default;

  // The state of every hypothesis before its first token (per sentence of the batch, so one
  // search can constrain each sentence differently).
  virtual State start(int64_t sentence) const = 0;
  // The tokens a hypothesis in state may emit next, ascending; EOS among them when the
  // hypothesis may end here. An empty span: it cannot go on (the search drops it).
  virtual std::span<const int32_t> allowed(State state) const = 0;
  // The state after emitting token (one of allowed(state); EOS never advances).
  virtual State advance(State state, int32_t token) const = 0;
};

// The trie of a list of token sequences (without BOS/EOS): a hypothesis may follow any prefix of
// a listed sequence and end (EOS) exactly where a listed sequence ends. The same trie serves every
// sentence of a batch.
class TrieConstraint : public Constraint {
 public:
  // InvalidArgument if a sequence contains eos_id or a negative id; duplicates collapse.
  TrieConstraint(const std::vector<std::vector<int32_t>>& sequences, int32_t eos_id);

  State start(int64_t sentence) const override;
  std::span<const int32_t> allowed(State state) const override;
  State advance(State state, int32_t token) const override;

  int64_t nodes() const { return static_cast<int64_t>(allowed_.size()); }
  int64_t sequences() const { return sequences_; }
  // Node reached by a whole sequence (the same as following advance), -1 if it is not a prefix.
  State find(std::span<const int32_t> prefix) const;

 private:
  int32_t eos_id_;
  int64_t sequences_ = 0;
  std::vector<std::vector<int32_t>> allowed_;  // per node: child tokens (+ EOS), ascending
  std::vector<std::unordered_map<int32_t, State>> children_;
};

}  // namespace s2s
