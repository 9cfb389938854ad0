// UTF-8 validation and lowercasing.
#include "seq2seq/utf8.h"

#include <locale.h>
#include <wctype.h>

namespace s2s {

bool is_valid_utf8(std::string_view text, size_t* error_offset) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    size_t len;
    uint32_t min_code, code;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, min_code = 0x80, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min_code = 0x800, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min_code = 0x10000, code = c & 0x07;
    } else {
      if (error_offset) *error_offset = i;
      return false;
    }
    bool ok = i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (s[i + k] & 0xc0) == 0x80;
      code = (code << 6) | (s[i + k] & 0x3f);
    }
    if (!ok || code < min_code || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      if (error_offset) *error_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

namespace {
locale_t utf8_locale() {
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return locale;
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}
}  // namespace

std::string utf8_lowercase(std::string_view text) {
  const locale_t locale = utf8_locale();
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      ++i;
      continue;
    }
    const size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    uint32_t code = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (size_t k = 1; k < len && i + k < text.size(); ++k)
      code = (code << 6) | (s[i + k] & 0x3f);
    if (locale) code = static_cast<uint32_t>(towlower_l(static_cast<wint_t>(code), locale));
    append_utf8(out, code);
    i += len;
  }
  return out;
}

}  // namespace s2s
