// Charset conversion of e-mail text to UTF-8 (ICU's converters), the one place reply/ decodes
// bytes in a declared charset. Policy, for mail as it is found in old archives:
// - a known charset is converted by ICU; bytes invalid in it become U+FFFD;
// - no charset, "us-ascii" and unknown charsets (ICU has no converter): text that is valid UTF-8
//   is kept as it is, anything else is read as windows-1252 (a superset of ISO-8859-1 that maps
//   every byte), because undeclared 8-bit mail of the period is nearly always Latin-1/cp1252;
// - the result is always valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace s2s::reply {

struct CharsetResult {
  std::string text;       // valid UTF-8
  size_t replaced = 0;    // code points replaced by U+FFFD (bytes invalid in the charset)
  bool fallback = false;  // the charset was unknown to ICU (or absent) and the policy above chose
};

// Converts bytes in charset (a MIME charset name, case-insensitive; "" when none was declared).
CharsetResult to_utf8(std::string_view bytes, std::string_view charset);

// Makes any bytes valid UTF-8 by replacing each maximal invalid subsequence with U+FFFD.
std::string repair_utf8(std::string_view bytes, size_t* replaced = nullptr);

}  // namespace s2s::reply
