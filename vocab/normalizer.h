// Text normalization of vocab/: Unicode NFKC by ICU, the one normalization s2s applies to text
// before SentencePiece, identically when a vocabulary is trained and when text is encoded.
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

}  // namespace s2s
