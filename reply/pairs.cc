// PairExtractor: the filters of one message, in the order their reasons are listed in pairs.h.
#include "reply/pairs.h"

#include <cctype>
#include <cstdio>
#include <functional>
#include <regex>
#include <sstream>

#include "reply/mime.h"
#include "reply/quote.h"
#include "reply/response_set.h"
#include "reply/threads.h"
#include "seq2seq/error.h"

namespace s2s::reply {
namespace {

bool is_ham(const std::string& group) {
  return group.empty() || group.find("ham") != std::string::npos;
}

bool is_forward(const Message& message) {
  static const std::regex subject(R"(^\s*(\[[^\]]*\]\s*)*(fwd?|fw)\s*:)", std::regex::icase);
  static const std::regex body(
      R"(^\s*-+\s*forwarded message|^\s*-*\s*begin forwarded (message|text)|^\s*-+\s*forwarded by)",
      std::regex::icase | std::regex::multiline);
  const std::string s = message.header("Subject");
  return std::regex_search(s, subject) || std::regex_search(message.text, body);
}

}  // namespace

const char* drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kNonHam:
      return "non-ham";
    case DropReason::kUnreadable:
      return "unreadable";
    case DropReason::kDecodeError:
      return "decode-error";
    case DropReason::kNoText:
      return "no-text";
    case DropReason::kForwarded:
      return "forwarded";
    case DropReason::kNoQuote:
      return "no-quote";
    case DropReason::kEmptyOriginal:
      return "empty-original";
    case DropReason::kEmptyReply:
      return "empty-reply";
    case DropReason::kReplyTooLong:
      return "reply-too-long";
    case DropReason::kMessageTooLong:
      return "message-too-long";
    case DropReason::kInterleaved:
      return "interleaved";
    case DropReason::kDuplicate:
      return "duplicate";
    case DropReason::kCount:
      break;
  }
  return "?";
}

size_t ExtractStats::total_dropped() const {
  size_t n = 0;
  for (const size_t d : dropped)
    n += d;
  return n;
}

std::string ExtractStats::summary() const {
  std::ostringstream out;
  out << messages << " messages, " << pairs << " pairs kept (" << html_bodies << " from HTML, "
      << interleaved << " interleaved, " << broken_mime << " with broken MIME, "
      << replaced_characters << " characters replaced by U+FFFD), " << total_dropped()
      << " dropped:";
  for (size_t r = 0; r < dropped.size(); ++r)
    out << "\n  " << drop_reason_name(static_cast<DropReason>(r)) << ": " << dropped[r];
  return out.str();
}

PairExtractor::PairExtractor(ExtractOptions options) : options_(options) {}

std::optional<Pair> PairExtractor::drop(DropReason reason) {
  ++stats_.dropped[static_cast<size_t>(reason)];
  return std::nullopt;
}

void PairExtractor::count_unreadable() {
  ++stats_.messages;
  drop(DropReason::kUnreadable);
}

std::optional<Pair> PairExtractor::extract(const RawMessage& raw) {
  ++stats_.messages;
  if (!is_ham(raw.group)) return drop(DropReason::kNonHam);
  Message message;
  try {
    ParseOptions parse;
    parse.max_bytes = options_.max_bytes;
    parse.unicode_input = raw.unicode;
    message = parse_message(raw.bytes, parse);
  } catch (const InputError&) {
    return drop(DropReason::kDecodeError);
  }
  if (message.source == BodySource::kNone ||
      message.text.find_first_not_of(" \t\n") == std::string::npos)
    return drop(DropReason::kNoText);
  if (is_forward(message)) return drop(DropReason::kForwarded);
  ReplySplit split = split_reply(message.text);
  if (!split.quoted) return drop(DropReason::kNoQuote);
  if (split.original.empty()) return drop(DropReason::kEmptyOriginal);
  if (split.reply.empty()) return drop(DropReason::kEmptyReply);
  if (count_words(split.reply) > options_.max_reply_words) return drop(DropReason::kReplyTooLong);
  if (count_words(split.original) > options_.max_message_words)
    return drop(DropReason::kMessageTooLong);
  if (split.interleaved && options_.drop_interleaved) return drop(DropReason::kInterleaved);
  if (options_.deduplicate) {
    const size_t key = std::hash<std::string>()(split.original + '\x1f' + split.reply);
    if (!seen_.insert(key).second) return drop(DropReason::kDuplicate);
  }
  ++stats_.pairs;
  if (message.source == BodySource::kHtml) ++stats_.html_bodies;
  if (split.interleaved) ++stats_.interleaved;
  if (!message.problems.empty()) ++stats_.broken_mime;
  stats_.replaced_characters += message.replaced;
  std::vector<std::string> links;
  for (const char* header : {"Message-ID", "In-Reply-To", "References"})
    for (std::string& id : message_ids(message.header(header)))
      links.push_back(std::move(id));
  char text_key[32];
  std::snprintf(text_key, sizeof text_key, "text:%016llx",
                static_cast<unsigned long long>(fnv1a64(collapse_whitespace(split.original))));
  links.emplace_back(text_key);
  return Pair{std::move(split.original), std::move(split.reply), raw.where, std::move(links)};
}

size_t count_words(std::string_view text) {
  size_t n = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c));
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

std::string escape_field(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string unescape_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    const char next = field[++i];
    if (next == 'n')
      out += '\n';
    else if (next == 't')
      out += '\t';
    else if (next == '\\')
      out += '\\';
    else {  // not an escape this writer makes: kept as written
      out += '\\';
      out += next;
    }
  }
  return out;
}

}  // namespace s2s::reply
