// Caption text normalization for a word vocabulary (vocab/normalizer.h normalize_caption):
// ICU lowercasing, punctuation and symbols split off, joiners kept inside words.
#include <gtest/gtest.h>

#include "seq2seq/error.h"
#include "vocab/normalizer.h"

namespace s2s {
namespace {

TEST(NormalizeCaption, LowercasesAndSplitsPunctuation) {
  EXPECT_EQ(normalize_caption("A T-Shirt, (top-left)!"), "a t-shirt , ( top-left ) !");
  EXPECT_EQ(normalize_caption("  a  sneaker\tin the\nmiddle.  "), "a sneaker in the middle .");
  EXPECT_EQ(normalize_caption("Don't -- stop..."), "don't - - stop . . .");
  EXPECT_EQ(normalize_caption("3.5 kg, 1,000 items: 10$"), "3.5 kg , 1,000 items : 10 $");
  EXPECT_EQ(normalize_caption("it\xe2\x80\x99s a \xe2\x80\x9c"
                              "bag\xe2\x80\x9d"),
            "it's a \xe2\x80\x9c bag \xe2\x80\x9d");  // ’ -> ', quotes split off
  EXPECT_EQ(normalize_caption("-left right-"), "- left right -");
  EXPECT_EQ(normalize_caption(""), "");
  EXPECT_EQ(normalize_caption(" ,"), ",");
}

TEST(NormalizeCaption, UsesIcuFullCaseMappingAndNfkc) {
  EXPECT_EQ(normalize_caption("\xc3\x84RMEL \xc3\x9c"
                              "BER"),
            "\xc3\xa4rmel \xc3\xbc"
            "ber");
  EXPECT_EQ(normalize_caption("\xce\x9f\xce\x94\xce\x9f\xce\xa3"),
            "\xce\xbf\xce\xb4\xce\xbf\xcf\x82");
  EXPECT_EQ(normalize_caption("\xef\xbc\xa1\xef\xbd\x82"), "ab");               // full-width, NFKC
  EXPECT_EQ(normalize_caption("caf\xc3\xa9\xe2\x80\xa8ok"), "caf\xc3\xa9 ok");  // U+2028 a space
}

TEST(NormalizeCaption, RejectsInvalidUtf8) {
  EXPECT_THROW(normalize_caption("bad \xff"), InputError);
}

}  // namespace
}  // namespace s2s
