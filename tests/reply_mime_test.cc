// The MIME reader of reply/: folding, encodings, multipart, charsets and broken input.
#include <gtest/gtest.h>

#include "reply/charset.h"
#include "reply/mime.h"
#include "seq2seq/error.h"
#include "seq2seq/utf8.h"

namespace s2s::reply {
namespace {

TEST(ReplyMime, UnfoldsHeadersAndDecodesEncodedWords) {
  const Message m = parse_message(
      "From: Joe <joe@example.org>\r\n"
      "Subject: a long\r\n"
      "\tsubject line\r\n"
      "X-Test: =?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?B?w7xiZXI=?= you\r\n"
      "\r\n"
      "Body line.\r\n");
  EXPECT_EQ(m.header("subject"), "a long subject line");
  EXPECT_EQ(m.header("X-TEST"), "Grüßeüber you");
  EXPECT_EQ(m.header("missing"), "");
  EXPECT_EQ(m.text, "Body line.\n");
  EXPECT_EQ(m.source, BodySource::kPlain);
  EXPECT_TRUE(m.problems.empty());
}

TEST(ReplyMime, QuotedPrintable) {
  EXPECT_EQ(decode_quoted_printable("caf=C3=A9 =3D soft=\nbreak=20\nx = y =zz"),
            "café = softbreak \nx = y =zz");
  const Message m = parse_message(
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n\n"
      "Gr=FC=DFe aus K=F6ln, a very long line that was wrapped=\n by the sender.\n");
  EXPECT_EQ(m.text, "Grüße aus Köln, a very long line that was wrapped by the sender.\n");
}

TEST(ReplyMime, Base64IncludingTruncatedAndGarbage) {
  bool bad = true;
  EXPECT_EQ(decode_base64("aGVsbG8gd29y\nbGQ=\n", &bad), "hello world");
  EXPECT_FALSE(bad);
  EXPECT_EQ(decode_base64("aGVsbG8gd29ybG", &bad), "hello worl");  // truncated: what it holds
  EXPECT_TRUE(bad);
  EXPECT_EQ(decode_base64("aGV*sbG8=", &bad), "hello");
  EXPECT_TRUE(bad);
  const Message m = parse_message(
      "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: BASE64\n\n"
      "w6ljaG8gLSBNw7xuY2hlbg==\n");
  EXPECT_EQ(m.text, "écho - München");
}

TEST(ReplyMime, MultipartPrefersPlainTextAndFallsBackToHtml) {
  const std::string alternative =
      "Content-Type: multipart/alternative; boundary=\"XYZ\"\n\n"
      "preamble\n"
      "--XYZ\n"
      "Content-Type: text/html\n\n"
      "<p>html version</p>\n"
      "--XYZ\n"
      "Content-Type: text/plain; charset=us-ascii\n\n"
      "plain version\n"
      "--XYZ--\n"
      "epilogue\n";
  Message m = parse_message(alternative);
  EXPECT_EQ(m.text, "plain version");
  EXPECT_EQ(m.source, BodySource::kPlain);

  const std::string html_only =
      "Content-Type: multipart/mixed; boundary=b1\n\n"
      "--b1\n"
      "Content-Type: multipart/alternative; boundary=b2\n\n"
      "--b2\n"
      "Content-Type: text/html; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n\n"
      "<html><head><title>t</title><style>p {}</style></head><body>"
      "<p>Fish &amp; chips&nbsp;&#233;t&#xe9;</p><br>second<!-- hidden --> line\n"
      "</body></html>\n"
      "--b2--\n"
      "--b1\n"
      "Content-Type: text/plain\nContent-Disposition: attachment; filename=notes.txt\n\n"
      "an attached file, not the message\n"
      "--b1--\n";
  m = parse_message(html_only);
  EXPECT_EQ(m.source, BodySource::kHtml);
  EXPECT_EQ(m.text, "Fish & chips été\n\nsecond line");

  m = parse_message(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: image/png\n\nxx\n--b--\n");
  EXPECT_EQ(m.source, BodySource::kNone);
}

TEST(ReplyMime, CharsetsAndInvalidBytes) {
  EXPECT_EQ(to_utf8("caf\xe9", "ISO-8859-1").text, "café");
  EXPECT_EQ(to_utf8("\x93quoted\x94", "windows-1252").text, "“quoted”");
  EXPECT_EQ(to_utf8("\xa4", "iso-8859-15").text, "€");
  EXPECT_EQ(to_utf8("\xd0\xd2\xc9\xd7\xc5\xd4", "koi8-r").text, "привет");
  // Undeclared or unknown charsets: valid UTF-8 stays, anything else is windows-1252.
  CharsetResult r = to_utf8("na\xc3\xafve", "");
  EXPECT_EQ(r.text, "naïve");
  EXPECT_TRUE(r.fallback);
  EXPECT_EQ(to_utf8("na\xefve", "us-ascii").text, "naïve");
  EXPECT_EQ(to_utf8("na\xefve", "x-no-such-charset").text, "naïve");
  // Declared UTF-8 with invalid bytes: each bad sequence becomes U+FFFD.
  r = to_utf8("ok \xff\xfe end \xe2\x82", "utf-8");
  EXPECT_TRUE(is_valid_utf8(r.text));
  EXPECT_EQ(r.text, "ok \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD");
  EXPECT_EQ(r.replaced, 3u);
  // Shift_JIS with a byte that is invalid there.
  r = to_utf8("\x93\xfa\x96\x7b \x85\x20", "shift_jis");
  EXPECT_TRUE(is_valid_utf8(r.text));
  EXPECT_TRUE(r.text.starts_with("日本 "));
  EXPECT_GE(r.replaced, 1u);
}

TEST(ReplyMime, JsonRecordsAreNotConvertedTwice) {
  // A JSON record's 8bit body is already Unicode; its quoted-printable part is not.
  ParseOptions unicode;
  unicode.unicode_input = true;
  Message m = parse_message("Content-Type: text/plain; charset=iso-8859-1\n\ncafé\n", unicode);
  EXPECT_EQ(m.text, "café\n");
  m = parse_message(
      "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
      "quoted-printable\n\n"
      "caf=E9\n",
      unicode);
  EXPECT_EQ(m.text, "café\n");
}

TEST(ReplyMime, BrokenMessagesAreReadAsFarAsTheyGo) {
  EXPECT_THROW(parse_message(""), InputError);
  EXPECT_THROW(parse_message(" \n\n\t\n"), InputError);
  ParseOptions small;
  small.max_bytes = 1000;
  EXPECT_THROW(parse_message(std::string(1001, 'x'), small), InputError);

  // No header block at all: the whole text is the body.
  Message m = parse_message("just some text\nwithout headers\n");
  EXPECT_EQ(m.text, "just some text\nwithout headers\n");
  EXPECT_FALSE(m.problems.empty());

  // Truncated multipart: no closing boundary; the part read so far is kept.
  m = parse_message(
      "Content-Type: multipart/alternative; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain\n\n"
      "cut off in the mid");
  EXPECT_EQ(m.text, "cut off in the mid");
  EXPECT_FALSE(m.problems.empty());

  // Multipart without a boundary parameter: the body as text.
  m = parse_message("Content-Type: multipart/mixed\n\nsome text\n");
  EXPECT_EQ(m.text, "some text\n");

  // Truncated inside the headers.
  m = parse_message("From: joe\nSubject: trunc");
  EXPECT_EQ(m.header("Subject"), "trunc");
  EXPECT_EQ(m.text, "");

  // Nested too deep.
  std::string deep;
  for (int i = 0; i < 12; ++i)
    deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
            std::to_string(i) + "\n";
  deep += "Content-Type: text/plain\n\ndeep text\n";
  m = parse_message(deep);
  EXPECT_EQ(m.source, BodySource::kNone);
  EXPECT_FALSE(m.problems.empty());

  // Invalid UTF-8 in a body without charset becomes valid text.
  m = parse_message("Subject: x\n\nbad \xff\xfe bytes \xc3\n");
  EXPECT_TRUE(is_valid_utf8(m.text));
  // A huge message within the limit.
  const std::string huge = "Subject: big\n\n" + std::string(3u << 20, 'a') + "\n";
  EXPECT_EQ(parse_message(huge).text.size(), (3u << 20) + 1);
}

TEST(ReplyMime, HeaderParameters) {
  const HeaderParameters p = parse_header_parameters(
      "Text/Plain; charset=\"UTF-8\"; format=flowed; name=\"a;b \\\"c\\\"\"");
  EXPECT_EQ(p.value, "text/plain");
  EXPECT_EQ(p.get("charset"), "UTF-8");
  EXPECT_EQ(p.get("format"), "flowed");
  EXPECT_EQ(p.get("name"), "a;b \"c\"");
  EXPECT_EQ(p.get("boundary"), "");
}

}  // namespace
}  // namespace s2s::reply
