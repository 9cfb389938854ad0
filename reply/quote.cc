// The line classifier and the splitting of reply/quote.h. Heuristics, tuned on the ham of the
// SpamAssassin corpus (mailing-list mail of 2002); tests/reply_quote_test.cc holds examples.
#include "reply/quote.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace s2s::reply {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool blank(std::string_view s) {
  return trim(s).empty();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      if (start < text.size()) lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Number of leading '>' (spaces between them allowed): the quote depth.
int quote_depth(std::string_view line) {
  int depth = 0;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == '>') {
      ++depth;
      ++i;
    } else if (line[i] == ' ' || line[i] == '\t') {
      ++i;
    } else {
      break;
    }
  }
  return depth;
}

// The line with its first '>' (and one space after it) removed.
std::string dequote(std::string_view line) {
  const size_t gt = line.find('>');
  std::string_view rest = line.substr(gt + 1);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return std::string(rest);
}

size_t word_count(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (const char c : s) {
    const bool space = std::isspace(static_cast<unsigned char>(c));
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

bool matches(const std::regex& re, std::string_view line) {
  return std::regex_search(line.begin(), line.end(), re);
}

const std::regex& original_message_re() {
  static const std::regex re(R"(^\s*-{2,}\s*original message\s*-{2,}\s*$)", std::regex::icase);
  return re;
}

// Where an Outlook-style quoted block begins, or lines.size().
size_t outlook_block(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (matches(original_message_re(), lines[i])) return i;
    if (lines[i].starts_with("From: ") && i + 1 < lines.size() &&
        (lines[i + 1].starts_with("Sent: ") || lines[i + 1].starts_with("Date: ")))
      return i;
  }
  return lines.size();
}

bool is_header_like(std::string_view line) {
  static const std::regex re(R"(^\s*(from|sent|to|cc|subject|date|reply-to)\s*:)",
                             std::regex::icase);
  return matches(re, line);
}

void drop_pgp_armour(std::vector<std::string>& lines) {
  std::vector<std::string> out;
  bool in_signature = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view t = trim(lines[i]);
    if (t == "-----BEGIN PGP SIGNED MESSAGE-----") {
      while (i + 1 < lines.size() &&
             (trim(lines[i + 1]).starts_with("Hash:") || blank(lines[i + 1])))
        ++i;
      continue;
    }
    if (t == "-----BEGIN PGP SIGNATURE-----") in_signature = true;
    if (!in_signature) out.push_back(lines[i].starts_with("- -") ? lines[i].substr(2) : lines[i]);
    if (t == "-----END PGP SIGNATURE-----") in_signature = false;
  }
  lines = std::move(out);
}

std::string join(const std::vector<std::string>& lines) {
  std::string text;
  int blanks = 0;
  for (const std::string& line : lines) {
    std::string_view l = line;
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back())))
      l.remove_suffix(1);
    if (l.empty()) {
      if (text.empty() || ++blanks > 1) continue;
    } else {
      blanks = 0;
    }
    text.append(l);
    text += '\n';
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  return text;
}

bool is_footer_start(const std::vector<std::string>& lines, size_t i) {
  const std::string_view t = trim(lines[i]);
  if (lines[i] == "-- " || t == "--") return true;
  if (t.size() >= 10 && t.find_first_not_of('_') == std::string_view::npos) return true;
  static const std::regex phrase(
      R"(^(to unsubscribe|unsubscribe:|you are receiving this|this sf\.net email is sponsored|yahoo! groups sponsor|your use of yahoo! groups|[-~]*\s*yahoo! groups sponsor|irish linux users' group))",
      std::regex::icase);
  if (matches(phrase, t)) return true;
  // A line of dashes or equals signs right before sponsor/list text.
  if (t.size() >= 20 && t.find_first_not_of("-=~") == std::string_view::npos) {
    for (size_t j = i + 1; j < lines.size() && j <= i + 2; ++j) {
      static const std::regex list(R"(sponsor|mailing list|unsubscribe|listinfo)",
                                   std::regex::icase);
      if (matches(list, lines[j])) return true;
    }
  }
  // "Foo mailing list" / a listinfo URL near the end.
  if (i + 4 >= lines.size()) {
    static const std::regex list(R"(mailing list\s*$|mailman/listinfo|^list-?(id|post|help):)",
                                 std::regex::icase);
    if (matches(list, t)) return true;
  }
  return false;
}

bool is_sign_off(std::string_view line) {
  static const std::regex re(
      R"(^(thanks|thanks a lot|thanks again|thanks in advance|thank you|many thanks|cheers|regards|best regards|kind regards|warm regards|warmest regards|best wishes|all the best|best|sincerely|yours|yours truly|take care|ciao|later|hth|rgds|tia|thx|ta|enjoy)\s*[,.!]*(\s*[A-Z][\w.'-]*(\s+[A-Z][\w.'-]*){0,2})?\s*$)");
  std::string t(trim(line));
  // Case-insensitive sign-off word, but the name after it must be capitalized: lowercase it
  // only up to the first comma.
  const size_t comma = t.find_first_of(",.!");
  std::string head = t.substr(0, comma);
  for (char& c : head)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  t = head + (comma == std::string::npos ? "" : t.substr(comma));
  return matches(re, t);
}

// A short line without sentence punctuation: a name ("Dan", "kre", "-- Joe") or a title.
// capitalized: only one that starts with a capital letter, '-' or '~'.
bool looks_like_name(std::string_view line, bool capitalized) {
  const std::string_view t = trim(line);
  if (t.empty() || word_count(t) > 3 || t.size() > 40) return false;
  const char last = t.back();
  if (last == '.' || last == '!' || last == '?' || last == ':' || last == ',') return false;
  return !capitalized || std::isupper(static_cast<unsigned char>(t.front())) || t.front() == '-' ||
         t.front() == '~';
}

// "Gary Lawrence Murphy:", "Owen Byrne;", "hrishy's [...] 22 lines of wisdom included:": a line
// ending in ':' or ';' that opens a paragraph right before a quote introduces it (checked in
// context by split_reply).
bool is_short_introduction(std::string_view line) {
  const std::string_view t = trim(line);
  return !t.empty() && (t.back() == ':' || t.back() == ';') && word_count(t) <= 12;
}

// "[...]", "<snip>", "[snip]", "...": marks of quoted text left out, not text.
bool is_snip_marker(std::string_view line) {
  static const std::regex re(
      R"(^\s*([\[<(]\s*(\.\.\.\s*)?(…|\.\.\.|s[ch]*nip(ped)?)\s*[\]>)]|\.\.\.|-+\s*snip\s*-+)\s*$)",
      std::regex::icase);
  return matches(re, line);
}

// "--j", "- adam l", "-dave", "/tony", "~ Dan": a short signature without the "-- " separator.
bool is_dash_signature(std::string_view line) {
  static const std::regex re(R"(^\s*(-{1,2}|/|~)\s*[A-Za-z][^.!?]*$)");
  return word_count(line) <= 3 && matches(re, line);
}

}  // namespace

bool is_attribution_line(std::string_view line) {
  static const std::regex re(
      R"(\b(wrote|writes)\s*\*?\s*[:;]?\s*$|\b(said|schrieb|a écrit|escribió|stated the following|is all like|joked|quipped|opined|sez)\b[^:]*[:;]\s*$|^\s*quoting\s.*:\s*$|^\s*on\s.*[0-9].*:\s*$|^\s*in (article|message)\s.*:\s*$|^\s*\[[^\]]{1,40}\]\s*:?\s*$)",
      std::regex::icase);
  return matches(re, line);
}

void strip_trailer(std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (is_footer_start(lines, i)) {
      lines.resize(i);
      break;
    }
  while (!lines.empty() && blank(lines.back()))
    lines.pop_back();
  // A separator of dashes or equals signs in the last four lines, with text above it: what
  // follows is a signature ("---" then an address) or a banner.
  for (size_t back = 1; back <= 4 && back < lines.size(); ++back) {
    const size_t j = lines.size() - back;
    const std::string_view t = trim(lines[j]);
    if (t.size() >= 3 && t.find_first_not_of("-=_") == std::string_view::npos) {
      lines.resize(j);
      while (!lines.empty() && blank(lines.back()))
        lines.pop_back();
      break;
    }
  }
  // A dash signature within the last four lines, followed only by short lines (address, URL).
  for (size_t back = 1; back <= 4 && back < lines.size(); ++back) {
    const size_t j = lines.size() - back;
    if (!is_dash_signature(lines[j])) continue;
    bool short_after = true;
    for (size_t k = j + 1; k < lines.size(); ++k)
      if (word_count(lines[k]) > 8) short_after = false;
    const bool text_before =
        std::any_of(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(j),
                    [](const std::string& l) { return !blank(l); });
    if (short_after && text_before) {
      lines.resize(j);
      while (!lines.empty() && blank(lines.back()))
        lines.pop_back();
    }
    break;
  }
  // A sign-off within the last four lines, followed only by short name-like lines.
  for (size_t back = 1; back <= 4 && back <= lines.size(); ++back) {
    const size_t j = lines.size() - back;
    if (!is_sign_off(lines[j])) continue;
    bool names_after = true;
    for (size_t k = j + 1; k < lines.size(); ++k)
      if (!blank(lines[k]) && !looks_like_name(lines[k], false)) names_after = false;
    if (!names_after) break;
    const bool text_before =
        std::any_of(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(j),
                    [](const std::string& l) { return !blank(l); });
    lines.resize(text_before ? j : j + 1);
    while (!lines.empty() && blank(lines.back()))
      lines.pop_back();
    return;
  }
  // A lone name ("Joe", "-- Joe", "~ Dan", or one lowercase word: "kevin") after a blank line,
  // with text above it.
  const auto lone_name = [](std::string_view line) {
    const std::string_view t = trim(line);
    return (looks_like_name(line, true) && word_count(line) <= 2) ||
           (t.size() <= 12 && std::all_of(t.begin(), t.end(), [](char c) {
              return std::islower(static_cast<unsigned char>(c));
            }));
  };
  if (lines.size() >= 3 && blank(lines[lines.size() - 2]) && lone_name(lines.back()) &&
      !is_sign_off(lines.back())) {
    lines.pop_back();
    while (!lines.empty() && blank(lines.back()))
      lines.pop_back();
  }
}

ReplySplit split_reply(std::string_view body) {
  ReplySplit split;
  std::vector<std::string> lines = split_lines(body);
  drop_pgp_armour(lines);

  // Outlook style: new text, then a header block, then the whole original unquoted.
  const size_t block = outlook_block(lines);
  std::vector<std::string> tail;
  if (block < lines.size()) {
    size_t i = block + (is_header_like(lines[block]) ? 0 : 1);
    while (i < lines.size() && (is_header_like(lines[i]) || (blank(lines[i]) && i == block + 1)))
      ++i;
    while (i < lines.size() && blank(lines[i]))
      ++i;
    tail.assign(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.end());
    lines.resize(block);
    split.quoted = true;
    // The original may itself be quoted with '>' (some clients do both): then dequote it.
    const bool all_quoted = std::all_of(tail.begin(), tail.end(), [](const std::string& l) {
      return blank(l) || quote_depth(l) > 0;
    });
    if (all_quoted)
      for (std::string& l : tail)
        if (!blank(l)) l = dequote(l);
  }

  // '>' quotes in what remains: segments of new text and of quoted text.
  std::vector<std::vector<std::string>> segments;  // new text between quotes
  std::vector<std::string> current, original;
  bool seen_quote = false, new_text_before_quote = false, new_text_after_quote = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int depth = quote_depth(lines[i]);
    if (depth == 0) {
      // An attribution: within two lines before a quote (blank lines between allowed).
      size_t next = i + 1;
      while (next < lines.size() && blank(lines[next]))
        ++next;
      const bool before_quote = next < lines.size() && quote_depth(lines[next]) > 0;
      const bool before_attribution_end = next < lines.size() && is_attribution_line(lines[next]) &&
                                          next + 1 < lines.size() &&
                                          quote_depth(lines[next + 1]) > 0;
      const bool starts_paragraph = i == 0 || blank(lines[i - 1]);
      if ((before_quote && (is_attribution_line(lines[i]) ||
                            (starts_paragraph && is_short_introduction(lines[i])))) ||
          (before_attribution_end && trim(lines[i]).starts_with("On ")) || is_snip_marker(lines[i]))
        continue;
      if (!blank(lines[i])) (seen_quote ? new_text_after_quote : new_text_before_quote) = true;
      current.push_back(lines[i]);
      continue;
    }
    if (!current.empty()) {  // a new quoted block after new text: a paragraph break
      segments.push_back(std::move(current));
      current.clear();
      if (!original.empty()) original.emplace_back();
    }
    seen_quote = true;
    if (depth == 1) {
      // A level-1 attribution line right before the original's own quotes is not its text.
      if (i + 1 < lines.size() && quote_depth(lines[i + 1]) >= 2 && is_attribution_line(lines[i]))
        continue;
      original.push_back(dequote(lines[i]));
    } else if (!original.empty() && !blank(original.back())) {
      original.emplace_back();  // deeper quotes: dropped, leaving a paragraph break
    }
  }
  if (!current.empty()) segments.push_back(std::move(current));
  split.quoted = split.quoted || seen_quote;
  split.interleaved = new_text_before_quote && new_text_after_quote && seen_quote;

  std::vector<std::string> reply;
  for (auto& segment : segments) {
    strip_trailer(segment);
    if (!reply.empty()) reply.emplace_back();
    reply.insert(reply.end(), segment.begin(), segment.end());
  }
  split.reply = join(reply);
  original.insert(original.end(), tail.begin(), tail.end());
  strip_trailer(original);
  split.original = join(original);
  return split;
}

}  // namespace s2s::reply
