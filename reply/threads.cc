// Thread grouping by union-find over message ids and quoted texts; the split of a thread by hash.
#include "reply/threads.h"

#include <algorithm>

#include "seq2seq/error.h"

namespace s2s::reply {

std::vector<std::string> message_ids(std::string_view value) {
  std::vector<std::string> ids;
  size_t at = 0;
  while ((at = value.find('<', at)) != std::string_view::npos) {
    const size_t end = value.find('>', at + 1);
    if (end == std::string_view::npos) break;
    const std::string_view id = value.substr(at, end - at + 1);
    // "<>" and ids with white space inside are damage, not ids: two damaged headers would
    // otherwise join unrelated threads.
    if (id.size() > 2 && id.find_first_of(" \t\r\n") == std::string_view::npos)
      ids.emplace_back(id);
    at = end + 1;
  }
  return ids;
}

int32_t ThreadGrouper::node(const std::string& link) {
  const auto [it, added] = node_of_link_.emplace(link, static_cast<int32_t>(parent_.size()));
  if (added) {
    parent_.push_back(it->second);
    link_of_node_.push_back(link);
  }
  return it->second;
}

int32_t ThreadGrouper::find(int32_t x) {
  while (parent_[x] != x) {
    parent_[x] = parent_[parent_[x]];  // path halving
    x = parent_[x];
  }
  return x;
}

void ThreadGrouper::add(const std::vector<std::string>& links) {
  S2S_CHECK(!links.empty(), "ThreadGrouper: a pair needs at least one link");
  const int32_t first = find(node(links.front()));
  for (size_t i = 1; i < links.size(); ++i) {
    const int32_t other = find(node(links[i]));
    if (other != first) parent_[other] = first;
  }
  pair_node_.push_back(first);
}

std::vector<std::string> ThreadGrouper::keys() {
  // The smallest link of each component names it.
  std::unordered_map<int32_t, std::string> smallest;
  for (size_t n = 0; n < parent_.size(); ++n) {
    const int32_t root = find(static_cast<int32_t>(n));
    const auto [it, added] = smallest.emplace(root, link_of_node_[n]);
    if (!added && link_of_node_[n] < it->second) it->second = link_of_node_[n];
  }
  std::vector<std::string> out;
  out.reserve(pair_node_.size());
  for (const int32_t n : pair_node_)
    out.push_back(smallest.at(find(n)));
  return out;
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

Split split_of_thread(std::string_view key, int dev_percent, int test_percent) {
  S2S_CHECK(dev_percent >= 0 && test_percent >= 0 && dev_percent + test_percent <= 100,
            "split: dev and test shares must be percentages summing to at most 100, got ",
            dev_percent, " and ", test_percent);
  const int bucket = static_cast<int>(fnv1a64(key) % 100);
  if (bucket < test_percent) return Split::kTest;
  if (bucket < test_percent + dev_percent) return Split::kDev;
  return Split::kTrain;
}

const char* split_name(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kDev:
      return "dev";
    case Split::kTest:
      return "test";
  }
  return "?";
}

}  // namespace s2s::reply
