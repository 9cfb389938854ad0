// UTF-8 validation and the small amount of Unicode the core needs without ICU (ICU stays in
// vocab/): validity checks for every text reader, and simple lowercasing for BLEU's -lc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace s2s {

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
// On failure *error_offset, if given, receives the byte offset of the first bad sequence.
bool is_valid_utf8(std::string_view text, size_t* error_offset = nullptr);

// Lowercases every code point by its simple Unicode case mapping (the C.UTF-8 locale's towlower).
// text must be valid UTF-8.
std::string utf8_lowercase(std::string_view text);

}  // namespace s2s
