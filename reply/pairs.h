// (original message, reply) pairs from raw e-mail: parse (reply/mime.h), keep ham only, split the
// body into new text and quote (reply/quote.h), filter, and count every message dropped by reason.
// Also the TSV escaping of the pair files `s2s reply-data` writes: one pair a line,
// "message<TAB>reply", each field with '\' -> "\\", newline -> "\n", tab -> "\t" and CR dropped,
// so a field is one line and unescape_field gives the text back exactly.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "reply/mailbox.h"

namespace s2s::reply {

// The message text a reply model reads as "no message at all": `reply-data training
// --prior-percent` adds pairs with it, so that the model's P(reply | kNoMessage) estimates the
// reply's prior P(reply), which the conditioned score log P(r | m) - lambda log P(r) subtracts.
inline constexpr const char* kNoMessage = "(no message)";

struct Pair {
  std::string message;  // the quoted original
  std::string reply;    // the new text
  std::string where;    // where the reply e-mail came from (RawMessage::where)
  // What ties the pair to its conversation (reply/threads.h): the reply e-mail's own and
  // referenced message ids, and "text:" + a hash of the quoted message's collapsed text.
  std::vector<std::string> links;
};

enum class DropReason {
  kNonHam,          // a JSON record whose group is not ham (spam-1, spam-2)
  kUnreadable,      // the input could not be read (invalid JSON, over-long message in an mbox)
  kDecodeError,     // the message could not be parsed (empty, over max_bytes)
  kNoText,          // no text/plain or text/html part
  kForwarded,       // a forward ("Fwd:" subject, "Forwarded message" block), not a reply
  kNoQuote,         // quotes nothing: not a reply
  kEmptyOriginal,   // quotes only attributions, headers or signatures
  kEmptyReply,      // nothing new besides quote, signature and footer
  kReplyTooLong,    // reply over max_reply_words
  kMessageTooLong,  // original over max_message_words
  kInterleaved,     // answers between quoted paragraphs (only with drop_interleaved)
  kDuplicate,       // the same pair was already extracted (cross-posts, duplicated archives)
  kCount
};
const char* drop_reason_name(DropReason reason);  // "non-ham", "no-quote", ...

struct ExtractOptions {
  size_t max_bytes = 8u << 20;      // larger raw messages are decode errors
  size_t max_reply_words = 200;     // longer replies are dropped (reply-too-long)
  size_t max_message_words = 1000;  // longer originals are dropped (message-too-long)
  bool drop_interleaved = false;    // drop replies written between quoted paragraphs
  bool deduplicate = true;          // drop a pair seen before (same message and reply)
};

struct ExtractStats {
  size_t messages = 0;             // messages seen (unreadable inputs included)
  size_t pairs = 0;                // pairs kept
  size_t html_bodies = 0;          // kept pairs whose text came from stripped HTML
  size_t interleaved = 0;          // kept pairs with text between quotes
  size_t replaced_characters = 0;  // U+FFFD written while decoding kept pairs
  size_t broken_mime = 0;          // kept pairs whose MIME structure had problems
  std::array<size_t, static_cast<size_t>(DropReason::kCount)> dropped{};
  size_t total_dropped() const;
  std::string summary() const;  // several lines: kept, then each reason with its count
};

class PairExtractor {
 public:
  explicit PairExtractor(ExtractOptions options = {});

  // The pair of one message, or nullopt (counted under its drop reason).
  std::optional<Pair> extract(const RawMessage& message);
  // Counts an input that could not be read at all (for_each_message's on_error).
  void count_unreadable();

  const ExtractStats& stats() const { return stats_; }

 private:
  std::optional<Pair> drop(DropReason reason);

  ExtractOptions options_;
  ExtractStats stats_;
  std::unordered_set<size_t> seen_;  // hashes of the pairs kept
};

// Counts white-space separated words.
size_t count_words(std::string_view text);

std::string escape_field(std::string_view text);
std::string unescape_field(std::string_view field);

}  // namespace s2s::reply
