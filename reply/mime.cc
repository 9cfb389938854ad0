// The MIME reader: a header block, then a body that is decoded by its transfer encoding and
// charset, or split into parts on its boundary and searched for the text to keep.
#include "reply/mime.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>

#include "reply/charset.h"
#include "seq2seq/error.h"

namespace s2s::reply {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits text into lines without their "\n" (a final line without one included).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool is_header_line(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (size_t i = 0; i < colon; ++i) {  // RFC 5322 field names: printable ASCII but ':' and ' '
    const auto c = static_cast<unsigned char>(line[i]);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

// Parses the header block at the start of text; returns the offset where the body begins.
size_t parse_headers(std::string_view text, std::vector<Header>& headers,
                     std::vector<std::string>& problems) {
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    const size_t next = std::min(end + 1, text.size());
    if (trim(line).empty() && (line.empty() || !first)) return next;  // the blank separator line
    if (first && line.starts_with("From ")) {  // an mbox From_ line left on a single message
      pos = next;
      first = false;
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !headers.empty()) {
      headers.back().value += ' ';
      headers.back().value += trim(line);
    } else if (is_header_line(line)) {
      const size_t colon = line.find(':');
      headers.push_back(
          {std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
    } else if (first) {
      problems.push_back("no header block");
      return 0;  // no headers at all: the whole text is the body
    } else {
      problems.push_back("header block ends without a blank line");
      return pos;
    }
    first = false;
    pos = next;
  }
  return text.size();
}

std::string find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return h.value;
  return "";
}

struct Leaf {  // a decoded single-part entity: a candidate for the message text
  std::string type;
  bool attachment = false;
  std::string text;  // UTF-8
};

class BodyParser {
 public:
  BodyParser(const ParseOptions& options, Message& message)
      : options_(options), message_(message) {}

  void entity(const std::vector<Header>& headers, std::string_view body, int depth,
              std::vector<Leaf>& leaves) {
    const HeaderParameters type = parse_header_parameters(find_header(headers, "Content-Type"));
    const std::string content_type = type.value.empty() ? "text/plain" : type.value;
    if (content_type.starts_with("multipart/")) {
      if (depth >= options_.max_depth) {
        message_.problems.push_back("multipart nested deeper than " +
                                    std::to_string(options_.max_depth));
        return;
      }
      const std::string boundary = type.get("boundary");
      if (boundary.empty()) {
        message_.problems.push_back("multipart without a boundary");
        leaves.push_back({"text/plain", false, decode(headers, body, "")});
        return;
      }
      multipart(body, boundary, depth, leaves);
      return;
    }
    if (!content_type.starts_with("text/")) return;  // images, applications, message/rfc822
    const HeaderParameters disposition =
        parse_header_parameters(find_header(headers, "Content-Disposition"));
    leaves.push_back({content_type, disposition.value == "attachment",
                      decode(headers, body, type.get("charset"))});
  }

 private:
  std::string decode(const std::vector<Header>& headers, std::string_view body,
                     const std::string& charset) {
    const std::string encoding = lower(trim(find_header(headers, "Content-Transfer-Encoding")));
    std::string bytes;
    bool transfer_encoded = true;
    if (encoding == "quoted-printable") {
      bytes = decode_quoted_printable(body);
    } else if (encoding == "base64") {
      bool bad = false;
      bytes = decode_base64(body, &bad);
      if (bad) message_.problems.push_back("bad base64");
    } else {
      bytes.assign(body);
      transfer_encoded = false;
    }
    if (options_.unicode_input && !transfer_encoded) {
      size_t replaced = 0;
      std::string text = repair_utf8(bytes, &replaced);
      message_.replaced += replaced;
      return text;
    }
    CharsetResult converted = to_utf8(bytes, charset);
    message_.replaced += converted.replaced;
    return std::move(converted.text);
  }

  void multipart(std::string_view body, const std::string& boundary, int depth,
                 std::vector<Leaf>& leaves) {
    const std::string delimiter = "--" + boundary;
    std::vector<std::string_view> parts;
    bool closed = false;
    size_t part_start = std::string_view::npos;
    size_t pos = 0;
    while (pos <= body.size()) {
      size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) end = body.size();
      const std::string_view line = body.substr(pos, end - pos);
      if (line.starts_with(delimiter)) {
        const std::string_view rest = trim(line.substr(delimiter.size()));
        if (rest.empty() || rest == "--") {
          if (part_start != std::string_view::npos)
            parts.push_back(body.substr(part_start, pos > part_start ? pos - 1 - part_start : 0));
          if (rest == "--") {
            closed = true;
            break;
          }
          part_start = std::min(end + 1, body.size());
        }
      }
      if (end == body.size()) break;
      pos = end + 1;
    }
    if (!closed) {
      message_.problems.push_back("multipart without closing boundary");
      if (part_start != std::string_view::npos) parts.push_back(body.substr(part_start));
    }
    if (parts.empty()) message_.problems.push_back("multipart without parts");
    for (const std::string_view part : parts) {
      std::vector<Header> headers;
      const size_t offset = parse_headers(part, headers, message_.problems);
      entity(headers, part.substr(offset), depth + 1, leaves);
    }
  }

  const ParseOptions& options_;
  Message& message_;
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string Message::header(std::string_view name) const {
  return find_header(headers, name);
}

std::string HeaderParameters::get(std::string_view name) const {
  for (const auto& [key, value] : parameters)
    if (key == name) return value;
  return "";
}

HeaderParameters parse_header_parameters(std::string_view value) {
  HeaderParameters result;
  size_t pos = value.find(';');
  result.value = lower(trim(value.substr(0, pos)));
  while (pos != std::string_view::npos && pos < value.size()) {
    ++pos;  // past ';'
    const size_t eq = value.find('=', pos);
    if (eq == std::string_view::npos) break;
    std::string name = lower(trim(value.substr(pos, eq - pos)));
    size_t i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t'))
      ++i;
    std::string parameter;
    if (i < value.size() && value[i] == '"') {  // quoted string, backslash escapes
      for (++i; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        parameter += value[i];
      }
      pos = value.find(';', i);
    } else {
      pos = value.find(';', i);
      parameter = std::string(trim(value.substr(i, pos == std::string_view::npos ? pos : pos - i)));
    }
    result.parameters.emplace_back(std::move(name), std::move(parameter));
  }
  return result;
}

std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '=') {
      out += c;
      continue;
    }
    // "=" then optional trailing white space then the line end: a soft line break.
    size_t j = i + 1;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t'))
      ++j;
    if (j == text.size() || text[j] == '\n' ||
        (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n')) {
      i = j == text.size() ? j : (text[j] == '\r' ? j + 1 : j);
      continue;
    }
    if (i + 2 < text.size() + 0 && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += '=';  // not an escape: kept as written (RFC 2045 6.7 note 1)
    }
  }
  return out;
}

std::string decode_base64(std::string_view text, bool* bad) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  bool skipped = false, ended = false;
  size_t quantum = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    if (c == '=') {
      ended = true;
      continue;
    }
    if (v < 0) {
      if (!std::isspace(static_cast<unsigned char>(c))) skipped = true;
      continue;
    }
    if (ended) {  // data after padding: a second encoded block glued on; start afresh
      skipped = true;
      ended = false;
      bits = 0;
      buffer = 0;
      quantum = 0;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++quantum;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (quantum % 4 == 1 || (quantum % 4 != 0 && !ended)) skipped = true;  // truncated
  if (bad) *bad = skipped;
  return out;
}

std::string decode_encoded_words(std::string_view value) {
  std::string out;
  size_t pos = 0;
  bool previous_was_word = false;
  while (pos < value.size()) {
    const size_t start = value.find("=?", pos);
    if (start == std::string_view::npos) {
      out.append(value.substr(pos));
      break;
    }
    const size_t q1 = value.find('?', start + 2);
    const size_t q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
    const size_t finish = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
    if (finish == std::string_view::npos || q2 != q1 + 2) {
      out.append(value.substr(pos, start + 2 - pos));
      pos = start + 2;
      previous_was_word = false;
      continue;
    }
    const std::string_view between = value.substr(pos, start - pos);
    // White space between two adjacent encoded words is not part of the text (RFC 2047 6.2).
    if (!(previous_was_word && trim(between).empty())) out.append(between);
    std::string charset(value.substr(start + 2, q1 - start - 2));
    if (const size_t star = charset.find('*'); star != std::string::npos) charset.resize(star);
    const char encoding =
        static_cast<char>(std::toupper(static_cast<unsigned char>(value[q1 + 1])));
    const std::string_view payload = value.substr(q2 + 1, finish - q2 - 1);
    std::string bytes;
    if (encoding == 'B') {
      bytes = decode_base64(payload);
    } else if (encoding == 'Q') {
      std::string qp(payload);
      std::replace(qp.begin(), qp.end(), '_', ' ');
      bytes = decode_quoted_printable(qp);
    } else {
      bytes.assign(value.substr(start, finish + 2 - start));
      charset = "utf-8";
    }
    out += to_utf8(bytes, charset).text;
    pos = finish + 2;
    previous_was_word = true;
  }
  return repair_utf8(out);
}

std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  const auto starts_with_ci = [&](size_t i, std::string_view word) {
    return i + word.size() <= html.size() && iequals(html.substr(i, word.size()), word);
  };
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (starts_with_ci(i, "<!--")) {
        const size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      for (const std::string_view skipped : {"script", "style", "head"})
        if (starts_with_ci(i + 1, skipped)) {
          const std::string closing = "</" + std::string(skipped);
          size_t end = i + 1;
          while (end < html.size() && !starts_with_ci(end, closing))
            ++end;
          i = end;
          break;
        }
      const size_t end = html.find('>', i);
      if (end == std::string_view::npos) break;  // a truncated tag: drop the rest
      const std::string tag = lower(html.substr(i + 1, std::min<size_t>(end - i - 1, 6)));
      for (const std::string_view block : {"br", "p", "/p", "div", "/div", "tr", "li", "h1", "h2",
                                           "h3", "/h1", "/h2", "/h3", "blockq", "/block"})
        if (tag.starts_with(block) &&
            (tag.size() == block.size() ||
             !std::isalpha(static_cast<unsigned char>(tag[block.size()])))) {
          out += '\n';
          break;
        }
      i = end + 1;
      continue;
    }
    if (c == '&') {
      const size_t semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const std::string name = lower(html.substr(i + 1, semi - i - 1));
        uint32_t cp = 0;
        if (name == "amp")
          cp = '&';
        else if (name == "lt")
          cp = '<';
        else if (name == "gt")
          cp = '>';
        else if (name == "quot")
          cp = '"';
        else if (name == "apos")
          cp = '\'';
        else if (name == "nbsp")
          cp = ' ';
        else if (name.size() > 1 && name[0] == '#')
          cp = static_cast<uint32_t>(name[1] == 'x' ? std::strtoul(name.c_str() + 2, nullptr, 16)
                                                    : std::strtoul(name.c_str() + 1, nullptr, 10));
        if (cp != 0) {
          append_utf8(out, cp);
          i = semi + 1;
          continue;
        }
      }
    }
    // Source line breaks and runs of white space are not rendered by HTML: one space.
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
      ++i;
      continue;
    }
    out += c;
    ++i;
  }
  // Trim each line and keep at most one blank line in a row.
  std::string text;
  int blank = 0;
  for (const std::string_view line : split_lines(out)) {
    const std::string_view t = trim(line);
    if (t.empty()) {
      if (++blank > 1 || text.empty()) continue;
    } else {
      blank = 0;
    }
    text.append(t);
    text += '\n';
  }
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

Message parse_message(std::string_view raw, const ParseOptions& options) {
  if (raw.size() > options.max_bytes)
    throw InputError("message of " + std::to_string(raw.size()) + " bytes is over the limit of " +
                     std::to_string(options.max_bytes));
  if (trim(raw).empty()) throw InputError("empty message");
  std::string text;
  text.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i)  // CRLF and lone CR -> LF
    if (raw[i] == '\r') {
      if (i + 1 >= raw.size() || raw[i + 1] != '\n') text += '\n';
    } else {
      text += raw[i];
    }
  Message message;
  const size_t body_start = parse_headers(text, message.headers, message.problems);
  for (Header& h : message.headers)
    h.value = decode_encoded_words(h.value);
  std::vector<Leaf> leaves;
  BodyParser(options, message)
      .entity(message.headers, std::string_view(text).substr(body_start), 0, leaves);
  const auto pick = [&](std::string_view type) -> const Leaf* {
    for (const Leaf& leaf : leaves)
      if (leaf.type == type && !leaf.attachment) return &leaf;
    return nullptr;
  };
  if (const Leaf* plain = pick("text/plain")) {
    message.text = plain->text;
    message.source = BodySource::kPlain;
  } else if (const Leaf* html = pick("text/html")) {
    message.text = html_to_text(html->text);
    message.source = BodySource::kHtml;
  }
  return message;
}

}  // namespace s2s::reply
