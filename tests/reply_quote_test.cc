// Splitting reply e-mail into new text and quoted original, and the pair extractor's filters,
// on hand-written messages in the styles of 2002 mailing-list mail.
#include <gtest/gtest.h>

#include "reply/pairs.h"
#include "reply/quote.h"

namespace s2s::reply {
namespace {

TEST(ReplyQuote, BottomPostingWithAttributionSignatureAndListFooter) {
  const ReplySplit s = split_reply(
      "On Thu, 22 Aug 2002, Robert Elz wrote:\n"
      "\n"
      "> Can you send me the output of \"exmh -version\"?\n"
      "> \n"
      "> Thanks,\n"
      "> kre\n"
      ">\n"
      "> -- \n"
      "> Robert Elz, Prince of Songkla University\n"
      "\n"
      "Sure, it is 2.5 from the tarball.\n"
      "I will try the CVS version tonight.\n"
      "\n"
      "Cheers,\n"
      "Chris\n"
      "\n"
      "-- \n"
      "Chris Garrigues                 http://www.DeepEddy.com/~cwg/\n"
      "\n"
      "_______________________________________________\n"
      "Exmh-workers mailing list\n"
      "Exmh-workers@redhat.com\n"
      "https://listman.redhat.com/mailman/listinfo/exmh-workers\n");
  EXPECT_TRUE(s.quoted);
  EXPECT_FALSE(s.interleaved);
  EXPECT_EQ(s.reply, "Sure, it is 2.5 from the tarball.\nI will try the CVS version tonight.");
  EXPECT_EQ(s.original, "Can you send me the output of \"exmh -version\"?");
}

TEST(ReplyQuote, TopPostingOverAnOutlookBlock) {
  const ReplySplit s = split_reply(
      "Yes, Friday works for me.\n"
      "\n"
      "Regards,\n"
      "Mary Smith\n"
      "Sales Director\n"
      "\n"
      "-----Original Message-----\n"
      "From: John Doe [mailto:john@example.com]\n"
      "Sent: Tuesday, September 03, 2002 10:15 AM\n"
      "To: Mary Smith\n"
      "Subject: meeting\n"
      "\n"
      "Can we meet on Friday at 10?\n"
      "\n"
      "John\n");
  EXPECT_TRUE(s.quoted);
  EXPECT_EQ(s.reply, "Yes, Friday works for me.");
  EXPECT_EQ(s.original, "Can we meet on Friday at 10?");
}

TEST(ReplyQuote, OutlookHeadersWithoutTheOriginalMessageLine) {
  const ReplySplit s = split_reply(
      "Thanks!\n\nFrom: Ann <ann@example.org>\nDate: Mon, 2 Sep 2002 09:00:00 +0100\n"
      "Subject: slides\n\nThe slides are attached.\n");
  EXPECT_EQ(s.reply, "Thanks!");
  EXPECT_EQ(s.original, "The slides are attached.");
}

TEST(ReplyQuote, NestedQuotesAndTwoLineAttribution) {
  const ReplySplit s = split_reply(
      "On Mon, Sep 02, 2002 at 11:02:44AM +0100, Justin Mason\n"
      "<jm@jmason.org> wrote:\n"
      "> Kevin Lyda said:\n"
      ">> Is razor still broken?\n"
      "> It was fixed in 2.14, please upgrade.\n"
      "\n"
      "Upgraded, works now. Thanks!\n");
  EXPECT_EQ(s.original, "It was fixed in 2.14, please upgrade.");
  EXPECT_EQ(s.reply, "Upgraded, works now. Thanks!");
}

TEST(ReplyQuote, InterleavedRepliesAreJoined) {
  const ReplySplit s = split_reply(
      "Joe Bloggs wrote:\n"
      "> Does it build on Solaris?\n"
      "\n"
      "Yes.\n"
      "\n"
      "> And on AIX?\n"
      "\n"
      "No idea.\n");
  EXPECT_TRUE(s.interleaved == false);  // no new text before the first quote
  EXPECT_EQ(s.original, "Does it build on Solaris?\n\nAnd on AIX?");
  EXPECT_EQ(s.reply, "Yes.\n\nNo idea.");
  const ReplySplit t = split_reply("Short answer first.\n\n> question one\n\nand more below\n");
  EXPECT_TRUE(t.interleaved);
}

TEST(ReplyQuote, NoQuoteAndPgpArmour) {
  ReplySplit s = split_reply("Just an announcement.\nNothing quoted here.\n");
  EXPECT_FALSE(s.quoted);
  EXPECT_EQ(s.original, "");
  s = split_reply(
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n\nAlan wrote:\n> is it safe?\n\n"
      "Yes, apply the patch.\n\n-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG v1.0.7\n\n"
      "iD8DBQE9\n-----END PGP SIGNATURE-----\n");
  EXPECT_EQ(s.reply, "Yes, apply the patch.");
  EXPECT_EQ(s.original, "is it safe?");
}

TEST(ReplyQuote, SignOffsAndNames) {
  std::vector<std::string> lines = {"Will do.", "", "Thanks,", "Dan"};
  strip_trailer(lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"Will do."}));
  lines = {"Thanks,", "Dan"};  // the sign-off is the whole reply: it stays
  strip_trailer(lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"Thanks,"}));
  lines = {"Sounds good to me.", "", "Dan"};
  strip_trailer(lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"Sounds good to me."}));
  lines = {"Try the CVS version.", "", "kevin"};
  strip_trailer(lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"Try the CVS version."}));
  lines = {"It works now.", "---", "My permanent email address is khare@alumni.caltech.edu"};
  strip_trailer(lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"It works now."}));
  lines = {"Thanks, but that is not what I asked.", "I wanted the other one."};
  strip_trailer(lines);
  EXPECT_EQ(lines.size(), 2u);  // "Thanks," inside a sentence is not a sign-off
  lines = {"Fine by me.", "", "------------------------ Yahoo! Groups Sponsor", "ad text",
           "To unsubscribe from this group, send an email to:"};
  strip_trailer(lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"Fine by me."}));
}

TEST(ReplyQuote, ListStylesOfAttributionSnipAndSignature) {
  ReplySplit s = split_reply(
      "[Tim]\n"
      "> The test suite passes on Windows.\n"
      "\n"
      "Good to hear; I will check it in.\n"
      "\n"
      "Cheers, Vipul\n");
  EXPECT_EQ(s.original, "The test suite passes on Windows.");
  EXPECT_EQ(s.reply, "Good to hear; I will check it in.");
  s = split_reply(
      "Gary Lawrence Murphy:\n"
      "> Does anyone remember the name of that column?\n"
      "<snip>\n"
      "\n"
      "A.K. Dewdney, Computer Recreations.\n"
      "\n"
      "-dave\n");
  EXPECT_EQ(s.original, "Does anyone remember the name of that column?");
  EXPECT_EQ(s.reply, "A.K. Dewdney, Computer Recreations.");
  s = split_reply(
      "Matthias Saou (matthias@egwn.net) wrote*:\n> Is it in the tree?\n\nNot yet.\n\n--j\n");
  EXPECT_EQ(s.original, "Is it in the tree?");
  EXPECT_EQ(s.reply, "Not yet.");
}

TEST(ReplyQuote, Attributions) {
  EXPECT_TRUE(is_attribution_line("Joe Bloggs wrote:"));
  EXPECT_TRUE(is_attribution_line("On Tue, 3 Sep 2002, Joe Bloggs <joe@x.org> wrote:"));
  EXPECT_TRUE(is_attribution_line("Once upon a time, Matthias wrote :"));
  EXPECT_TRUE(is_attribution_line("Quoting Tony Nugent (tony@linuxworks.com.au):"));
  EXPECT_TRUE(is_attribution_line("In message <123@x>, Ben writes:"));
  EXPECT_TRUE(is_attribution_line("[Skip Montanaro]"));
  EXPECT_TRUE(is_attribution_line("Gary Lawrence Murphy wrote"));
  EXPECT_TRUE(is_attribution_line("\"Hunt, Bryan\" stated the following:"));
  EXPECT_FALSE(is_attribution_line("I wrote the patch last week."));
  EXPECT_FALSE(is_attribution_line("Here is what to do:"));
}

RawMessage raw(std::string bytes, std::string group = "") {
  RawMessage m;
  m.where = "test";
  m.group = std::move(group);
  m.bytes = std::move(bytes);
  return m;
}

TEST(ReplyPairs, ExtractorKeepsRepliesAndCountsWhatItDrops) {
  PairExtractor extractor;
  const std::string reply =
      "From: a@b\nSubject: Re: build\n\nJoe wrote:\n> Does it build?\n\nYes, it does.\n";
  auto pair = extractor.extract(raw(reply, "easy-ham-1"));
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(pair->message, "Does it build?");
  EXPECT_EQ(pair->reply, "Yes, it does.");
  EXPECT_FALSE(extractor.extract(raw(reply, "easy-ham-2")).has_value());  // duplicate
  EXPECT_FALSE(extractor.extract(raw(reply, "spam-1")).has_value());
  EXPECT_FALSE(extractor.extract(raw("From: a@b\n\nNo quote here.\n")).has_value());
  EXPECT_FALSE(extractor.extract(raw("From: a@b\n\nJoe wrote:\n> only quote\n")).has_value());
  EXPECT_FALSE(extractor.extract(raw("")).has_value());
  EXPECT_FALSE(extractor.extract(raw("Subject: Fwd: look\n\n> quoted\nfyi\n")).has_value());
  EXPECT_FALSE(extractor.extract(raw("Content-Type: image/gif\n\nGIF89a")).has_value());
  std::string long_reply = "From: a@b\n\n> q\n\n";
  for (int i = 0; i < 300; ++i)
    long_reply += "word ";
  EXPECT_FALSE(extractor.extract(raw(long_reply)).has_value());
  extractor.count_unreadable();
  const ExtractStats& s = extractor.stats();
  EXPECT_EQ(s.messages, 10u);
  EXPECT_EQ(s.pairs, 1u);
  const auto count = [&](DropReason r) { return s.dropped[static_cast<size_t>(r)]; };
  EXPECT_EQ(count(DropReason::kDuplicate), 1u);
  EXPECT_EQ(count(DropReason::kNonHam), 1u);
  EXPECT_EQ(count(DropReason::kNoQuote), 1u);
  EXPECT_EQ(count(DropReason::kEmptyReply), 1u);
  EXPECT_EQ(count(DropReason::kDecodeError), 1u);
  EXPECT_EQ(count(DropReason::kForwarded), 1u);
  EXPECT_EQ(count(DropReason::kNoText), 1u);
  EXPECT_EQ(count(DropReason::kReplyTooLong), 1u);
  EXPECT_EQ(count(DropReason::kUnreadable), 1u);
  EXPECT_EQ(s.total_dropped() + s.pairs, s.messages);
  EXPECT_NE(s.summary().find("no-quote: 1"), std::string::npos);
}

TEST(ReplyPairs, FieldEscapingRoundTrips) {
  const std::string text = "line one\n\tindented \\n literal\r\nend\\";
  const std::string field = escape_field(text);
  EXPECT_EQ(field.find_first_of("\t\n\r"), std::string::npos);
  EXPECT_EQ(field, "line one\\n\\tindented \\\\n literal\\nend\\\\");
  EXPECT_EQ(unescape_field(field), "line one\n\tindented \\n literal\nend\\");
  EXPECT_EQ(unescape_field("a\\qb\\"), "a\\qb\\");  // unknown escapes stay as written
}

}  // namespace
}  // namespace s2s::reply
