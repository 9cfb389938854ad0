// RFC 822 / MIME message parsing for reply/: headers (folded lines joined, RFC 2047 encoded words
// decoded), Content-Type and charset, Content-Transfer-Encoding (quoted-printable, base64),
// multipart bodies (the first text/plain part that is not an attachment; else the first text/html
// part, stripped to text), charset conversion to UTF-8 (reply/charset.h: invalid bytes become
// U+FFFD). Broken MIME is read as far as it goes and noted in Message::problems, never thrown;
// only an empty or over-large message is an InputError.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace s2s::reply {

struct Header {
  std::string name;   // as written ("Content-Type")
  std::string value;  // unfolded, trimmed, encoded words decoded to UTF-8
};

enum class BodySource {
  kPlain,  // a text/plain part (or a message without Content-Type)
  kHtml,   // no text/plain part: a text/html part with tags removed
  kNone,   // no text part at all (only attachments, images, ...)
};

struct ParseOptions {
  // Larger messages are an InputError (a mail archive's attachments can be megabytes).
  size_t max_bytes = 8u << 20;
  // Multipart nesting deeper than this is ignored (noted in problems).
  int max_depth = 8;
  // The bytes came from a Unicode string (a JSON record): 7bit/8bit bodies are already UTF-8 and
  // are not converted from their declared charset again; quoted-printable and base64 bodies still
  // are, since their decoded bytes are in that charset.
  bool unicode_input = false;
};

struct Message {
  std::vector<Header> headers;  // the top-level headers in order
  std::string text;             // body text, UTF-8, "\n" line ends
  BodySource source = BodySource::kNone;
  size_t replaced = 0;                // characters replaced by U+FFFD while decoding
  std::vector<std::string> problems;  // what was broken ("multipart without closing boundary")

  // The value of the first header of that name (case-insensitive); "" when there is none.
  std::string header(std::string_view name) const;
};

// Parses one message (CRLF or LF line ends). Throws InputError when raw is empty (or only white
// space) or longer than options.max_bytes.
Message parse_message(std::string_view raw, const ParseOptions& options = {});

// The building blocks, exposed for tests and for callers that hold a decoded part.
std::string decode_quoted_printable(std::string_view text);  // soft breaks joined, bad '=' kept
// Skips characters outside the alphabet; a truncated final quantum decodes what it holds.
// *bad (if given) is set when anything had to be skipped or the input was truncated.
std::string decode_base64(std::string_view text, bool* bad = nullptr);
std::string decode_encoded_words(std::string_view value);  // RFC 2047 =?cs?B|Q?...?= -> UTF-8
std::string html_to_text(std::string_view html);           // tags out, entities in, UTF-8 in/out

// A parsed "type/subtype; name=value; ..." header value (Content-Type, Content-Disposition).
struct HeaderParameters {
  std::string value;  // lowercased main value: "text/plain", "attachment"
  std::vector<std::pair<std::string, std::string>> parameters;  // names lowercased, unquoted
  std::string get(std::string_view name) const;                 // "" when absent
};
HeaderParameters parse_header_parameters(std::string_view value);

}  // namespace s2s::reply
