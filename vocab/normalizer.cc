// NFKC through ICU's Normalizer2 (UTF-8 in, UTF-8 out, no UTF-16 round trip of our own).
#include "vocab/normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <vector>

#include "seq2seq/error.h"
#include "seq2seq/utf8.h"

namespace s2s {
namespace {

bool is_ascii_space(unsigned char c) {
  return c >= 0x09 && c <= 0x0d;
}  // \t \n \v \f \r

const icu::Normalizer2& nfkc() {
  // ICU's instance is a process-wide singleton, safe to share between threads.
  static const icu::Normalizer2* instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFKCInstance(status);
    if (U_FAILURE(status) || n == nullptr)
      throw EnvironmentError(std::string("ICU cannot load its NFKC data: ") + u_errorName(status));
    return n;
  }();
  return *instance;
}

// Replaces every White_Space code point of valid UTF-8 text by U+0020.
std::string map_spaces(std::string&& text) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    if (bytes[i] < 0x80) {
      out.push_back(is_ascii_space(bytes[i]) ? ' ' : static_cast<char>(bytes[i]));
      ++i;
      continue;
    }
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c >= 0 && u_isUWhiteSpace(c))
      out.push_back(' ');
    else
      out.append(text, static_cast<size_t>(start), static_cast<size_t>(i - start));
  }
  return out;
}

bool is_punctuation_or_symbol(UChar32 c) {
  const int32_t mask = U_GET_GC_MASK(c);
  return (mask & (U_GC_P_MASK | U_GC_S_MASK)) != 0;
}

}  // namespace

std::string normalize_caption(std::string_view text) {
  const std::string nfkc = normalize_text(text);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(nfkc.data(), static_cast<int32_t>(nfkc.size())));
  u.toLower(icu::Locale::getRoot());
  // Code points, with the typographic apostrophes and hyphens made ASCII.
  std::vector<UChar32> cps;
  cps.reserve(static_cast<size_t>(u.length()));
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (c == 0x2019 || c == 0x2018) c = '\'';
    if (c == 0x2010 || c == 0x2011) c = '-';
    cps.push_back(c);
  }
  std::string out;
  const auto append = [&](UChar32 c) {
    char buffer[4];
    int32_t length = 0;
    UBool error = false;
    U8_APPEND(reinterpret_cast<uint8_t*>(buffer), length, 4, c, error);
    if (!error) out.append(buffer, static_cast<size_t>(length));
  };
  const auto space = [&] {
    if (!out.empty() && out.back() != ' ') out.push_back(' ');
  };
  for (size_t i = 0; i < cps.size(); ++i) {
    const UChar32 c = cps[i];
    if (c == ' ' || u_isUWhiteSpace(c)) {
      space();
      continue;
    }
    if (!is_punctuation_or_symbol(c)) {
      append(c);
      continue;
    }
    const UChar32 prev = i > 0 ? cps[i - 1] : 0, next = i + 1 < cps.size() ? cps[i + 1] : 0;
    const bool joins_words = (c == '-' || c == '\'') && u_isalnum(prev) && u_isalnum(next);
    const bool joins_digits = (c == '.' || c == ',') && u_isdigit(prev) && u_isdigit(next);
    if (joins_words || joins_digits) {
      append(c);
      continue;
    }
    space();
    append(c);
    out.push_back(' ');
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::string normalize_text(std::string_view text) {
  size_t bad = 0;
  if (!is_valid_utf8(text, &bad))
    throw InputError("invalid UTF-8 at byte " + std::to_string(bad + 1));
  bool ascii = true;
  for (const char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) {  // ASCII is its own NFKC form: the common case skips ICU entirely
    std::string out(text);
    for (char& c : out)
      if (is_ascii_space(static_cast<unsigned char>(c))) c = ' ';
    return out;
  }
  std::string normalized;
  normalized.reserve(text.size());
  icu::StringByteSink<std::string> sink(&normalized);
  UErrorCode status = U_ZERO_ERROR;
  nfkc().normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), sink,
                       nullptr, status);
  if (U_FAILURE(status))
    throw InputError(std::string("NFKC normalization failed: ") + u_errorName(status));
  return map_spaces(std::move(normalized));
}

}  // namespace s2s
