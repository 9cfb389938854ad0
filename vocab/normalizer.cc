// NFKC through ICU's Normalizer2 (UTF-8 in, UTF-8 out, no UTF-16 round trip of our own).
#include "vocab/normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

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

}  // namespace

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
