// Splits the text of a reply e-mail into what its author wrote and the message it quotes, by the
// conventions of plain-text mail:
// - quoted lines start with '>' (after optional spaces); the original is the text one level deep
//   (deeper levels are the original's own quotes and are dropped), the '>' and one space removed;
// - Outlook's "-----Original Message-----" (or "From: ..." followed by "Sent:"/"Date:") starts a
//   block of header lines and then the unquoted original, which runs to the end;
// - attribution lines before a quote ("On Mon, 2 Sep 2002, Joe wrote:", "Joe wrote:",
//   "Quoting Joe:", two-line "On ...\n... wrote:") are dropped;
// - from the new text and from the original, strip_trailer removes signatures, sign-offs and
//   mailing-list footers; PGP armour lines are dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace s2s::reply {

struct ReplySplit {
  std::string reply;         // the new text (above, between and below quotes), trimmed
  std::string original;      // the quoted message, trimmed; "" when nothing was quoted
  bool quoted = false;       // a quote or an "Original Message" block was found
  bool interleaved = false;  // new text both before and after some quoted block
};

ReplySplit split_reply(std::string_view body);

// True for a line that introduces a quote ("... wrote:", "On ... wrote:", "Quoting ...:").
bool is_attribution_line(std::string_view line);

// Removes from lines, in place, what trails the text of a message: from the first signature
// separator ("-- ") or list-footer start (a line of underscores, "To unsubscribe", "... mailing
// list", a "mailman/listinfo" address, a sponsor banner) to the end; then a closing sign-off
// ("Thanks,", "Regards," ... followed by at most three short lines such as a name) when there is
// other text before it (otherwise the sign-off itself is kept and only the name goes); then a
// lone short name line at the end after a blank line.
void strip_trailer(std::vector<std::string>& lines);

}  // namespace s2s::reply
