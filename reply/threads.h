// Conversation threads of (message, reply) pairs, so that a split by thread keeps every pair of a
// conversation (and every copy of a quoted message) on one side: train, dev or test.
//
// Two pairs are in one thread when they share a link: a message id of the reply e-mail's
// Message-ID, In-Reply-To or References headers (a reply names its parent and, usually, its
// ancestors), or the text of the quoted message (white space collapsed: the same message quoted
// by two replies, cross-posted, or with its headers lost). Threads are the connected components
// (union-find); a thread's key is its smallest link, so the keys do not depend on input order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace s2s::reply {

// The message ids ("<...>", angle brackets kept) of a header value such as References, in order.
std::vector<std::string> message_ids(std::string_view header_value);

class ThreadGrouper {
 public:
  // Adds the next pair (pairs are numbered 0, 1, ... in the order added) with its links.
  void add(const std::vector<std::string>& links);
  size_t pairs() const { return pair_node_.size(); }
  // The thread key of every pair, in the order added.
  std::vector<std::string> keys();

 private:
  int32_t node(const std::string& link);
  int32_t find(int32_t x);

  std::unordered_map<std::string, int32_t> node_of_link_;
  std::vector<std::string> link_of_node_;
  std::vector<int32_t> parent_;
  std::vector<int32_t> pair_node_;  // one node of each pair's component
};

// Which split a thread goes to: a 64-bit FNV-1a hash of its key mod 100 against the shares in
// percent: [0, test) test, [test, test + dev) dev, the rest train. Deterministic everywhere.
enum class Split { kTrain, kDev, kTest };
Split split_of_thread(std::string_view key, int dev_percent, int test_percent);
const char* split_name(Split split);  // "train" | "dev" | "test"
uint64_t fnv1a64(std::string_view bytes);

}  // namespace s2s::reply
