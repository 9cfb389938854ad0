// to_utf8 through ICU's ucnv converters (bytes -> UTF-16 -> UTF-8), with the fallback policy of
// charset.h. ucnv's default substitution callback writes U+FFFD for illegal or unmappable bytes.
#include "reply/charset.h"

#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "seq2seq/utf8.h"

namespace s2s::reply {
namespace {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

struct ConverterCloser {
  void operator()(UConverter* c) const { ucnv_close(c); }
};

// Converts with the named ICU converter; false when ICU does not know the name.
bool convert(std::string_view bytes, const std::string& name, CharsetResult& result) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UConverter, ConverterCloser> converter(ucnv_open(name.c_str(), &status));
  if (U_FAILURE(status) || !converter) return false;
  // ICU's default callback substitutes U+FFFD for bad bytes (U+001A, SUB, for a few legacy
  // single-byte sets): both are counted and written as U+FFFD, less those already in the input.
  std::u16string utf16(bytes.size() * 2 + 16, u'\0');
  const char* source = bytes.data();
  UChar* target = reinterpret_cast<UChar*>(utf16.data());
  ucnv_toUnicode(converter.get(), &target, target + utf16.size(), &source, source + bytes.size(),
                 nullptr, true, &status);
  if (U_FAILURE(status)) return false;
  utf16.resize(static_cast<size_t>(target - reinterpret_cast<UChar*>(utf16.data())));
  const bool input_has_sub = bytes.find('\x1a') != std::string_view::npos;
  size_t in_input = 0, in_output = 0;
  for (size_t at = bytes.find("\xEF\xBF\xBD"); at != std::string_view::npos;
       at = bytes.find("\xEF\xBF\xBD", at + 3))
    ++in_input;
  for (char16_t& c : utf16) {
    if (c == 0x1A && !input_has_sub) c = 0xFFFD;
    if (c == 0xFFFD) ++in_output;
  }
  result.replaced = in_output > in_input ? in_output - in_input : 0;
  result.text.clear();
  icu::UnicodeString(false, reinterpret_cast<const UChar*>(utf16.data()),
                     static_cast<int32_t>(utf16.size()))
      .toUTF8String(result.text);
  return true;
}

}  // namespace

std::string repair_utf8(std::string_view bytes, size_t* replaced) {
  size_t count = 0;
  std::string out;
  out.reserve(bytes.size());
  size_t bad = 0;
  while (!bytes.empty()) {
    if (is_valid_utf8(bytes, &bad)) {
      out.append(bytes);
      break;
    }
    out.append(bytes.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    ++count;
    // Skip the bad lead byte and any continuation bytes after it (one maximal bad subsequence).
    size_t skip = bad + 1;
    while (skip < bytes.size() && (static_cast<unsigned char>(bytes[skip]) & 0xC0) == 0x80 &&
           skip - bad < 4)
      ++skip;
    bytes.remove_prefix(skip);
  }
  if (replaced) *replaced = count;
  return out;
}

CharsetResult to_utf8(std::string_view bytes, std::string_view charset) {
  CharsetResult result;
  std::string name = lower_ascii(charset);
  name.erase(std::remove_if(name.begin(), name.end(),
                            [](char c) { return c == '"' || c == '\'' || c == ' '; }),
             name.end());
  if (is_ascii(bytes)) {  // every charset a mail can declare in practice is ASCII-compatible
    result.text.assign(bytes);
    result.fallback = name.empty();
    return result;
  }
  const bool undeclared = name.empty() || name == "us-ascii" || name == "ascii" ||
                          name == "unknown-8bit" || name == "x-unknown" || name == "default";
  if (name == "utf-8" || name == "utf8") {
    result.text = repair_utf8(bytes, &result.replaced);
    return result;
  }
  if (!undeclared && convert(bytes, name, result)) return result;
  result.fallback = true;
  if (is_valid_utf8(bytes)) {
    result.text.assign(bytes);
    return result;
  }
  convert(bytes, "windows-1252", result);  // maps every byte: cannot fail
  return result;
}

}  // namespace s2s::reply
