// Text normalization of vocab/: Unicode NFKC by ICU, the one normalization s2s applies to text
// before SentencePiece, identically when a vocabulary is trained and when text is encoded; and
// the caption normalization (lowercase, punctuation split off) for a word vocabulary.
#pragma once

#include <string>
#include <string_view>

namespace s2s {

// Returns text in Unicode Normalization Form KC ("ﬁ" -> "fi", full-width "Ａ" -> "A",
// "①" -> "1", composed accents), then with every remaining White_Space character (tab, vertical
// tab, U+0085, U+2028, ...) replaced by a plain space. The second step exists because
// SentencePiece, whose own normalization is switched off (identity rules), treats only U+0020 as
// a word boundary. Thread-safe. Throws InputError if text is not valid UTF-8.
std::string normalize_text(std::string_view text);

// Caption text for a word vocabulary: normalize_text(), then ICU full lowercasing (root locale:
// "STRASSE" -> "strasse", "İ" -> "i̇"), then every punctuation or symbol code point (Unicode
// categories P* and S*) split off as a word of its own, except the joiners that belong to a
// word: a hyphen or apostrophe between two letters or digits ("t-shirt", "don't"; the
// typographic ’ ‘ ‐ ‑ become ' and -) and a period or comma between two digits ("3.5",
// "1,000"). Words are separated by exactly one space, with none at either end, so splitting the
// result on ' ' gives the words: "A T-Shirt, (top-left)!" -> "a t-shirt , ( top-left ) !".
// Thread-safe. Throws InputError if text is not valid UTF-8.
std::string normalize_caption(std::string_view text);

}  // namespace s2s
