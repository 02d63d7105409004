// Tests for common/mail_text: charsets, RFC 2047, transfer encodings,
// body splitting and address de-obfuscation, on values seen in R-help.
#include "common/mail_text.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/item.h"
#include "common/schema.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

struct Case {
  std::string in;
  std::string want;
};

TEST(MailTextTest, DecodeRfc2047) {
  const Case cases[] = {
      // Q, iso-8859-1 (R-help 1999-August, From: display name).
      {"=?iso-8859-1?Q?Bj=F8rn-Helge_Mevik?=", "Bj\u00f8rn-Helge Mevik"},
      // Encoded word followed by plain text.
      {"=?iso-8859-1?Q?Jos=E9?= Ernesto Jardim", "Jos\u00e9 Ernesto Jardim"},
      // B, utf-8.
      {"=?UTF-8?B?TWFydGluIE3DuGxsZXI=?=", "Martin M\u00f8ller"},
      // Lower-case q and b markers.
      {"=?utf-8?q?caf=C3=A9?=", "caf\u00e9"},
      // Adjacent words: the blank between them is dropped.
      {"=?iso-8859-1?Q?a?= =?iso-8859-1?Q?b?=", "ab"},
      {"=?utf-8?Q?Mich?=\n =?utf-8?Q?a=C3=ABl?=", "Micha\u00ebl"},
      // A UTF-8 character split over two words survives the join.
      {"=?utf-8?B?w6k=?= =?utf-8?B?w6k=?=", "\u00e9\u00e9"},
      {"=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?=", "\u00e9t\u00e9"},
      // Plain text between words is kept, blanks included.
      {"Re: =?iso-8859-1?Q?r=E9ponse?= ok", "Re: r\u00e9ponse ok"},
      // windows-1251 (2003-April separator).
      {"=?windows-1251?Q?=CA=EE=F1=E5=ED=EA=EE=E2?=",
       "\u041a\u043e\u0441\u0435\u043d\u043a\u043e\u0432"},
      // Blanks inside a Q word (web.de, R-help 2001-2004 From: lines).
      {"=?iso-8859-1?Q? Jens=20Oehlschl=E4gel ?=",
       " Jens Oehlschl\u00e4gel "},
      {"Na=?iso-8859-1?Q?=EFme TAIBALY?=", "Na\u00efme TAIBALY"},
      // Malformed: left alone.
      {"=?iso-8859-1?X?abc?=", "=?iso-8859-1?X?abc?="},
      {"=?iso-8859-1?Q?no end", "=?iso-8859-1?Q?no end"},
      {"a =? b ?= c", "a =? b ?= c"},
      {"=??Q?x?=", "=??Q?x?="},
      // Unknown charset: windows-1252 fallback.
      {"=?x-no-such-charset?Q?caf=E9?=", "caf\u00e9"},
      // No encoded words; raw latin-1 byte becomes UTF-8.
      {"plain subject", "plain subject"},
      {"Bj\xf8rn", "Bj\u00f8rn"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeRfc2047(c.in), c.want) << c.in;
  }
  // Raw 8-bit text names no charset: read as CharsetToUtf8 reads such text.
  EXPECT_EQ(
      DecodeRfc2047("Re: \xd0\xd2\xc9\xd7\xc5\xd4 =?utf-8?q?caf=C3=A9?="),
      "Re: \u043f\u0440\u0438\u0432\u0435\u0442 caf\u00e9");
}

// Found by fuzzing: every "=?" that starts no encoded word searched to the
// header's end for a "?=", so a long header of them (a folded Subject may
// run to megabytes) took minutes. Now each byte is looked at a few times.
TEST(MailTextTest, DecodeRfc2047IsLinearInFailedWords) {
  std::string unclosed, far_closed;
  for (int i = 0; i < 300000; ++i) unclosed += "=?a?Q?x";
  // Each word reaches a "?=" only past a line break, or past blanks and
  // further than a word goes: none is decoded.
  for (int i = 0; i < 100000; ++i) far_closed += "=?a?Q?x y\n";
  far_closed += "?=";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(DecodeRfc2047(unclosed), unclosed);
  EXPECT_EQ(DecodeRfc2047(far_closed), far_closed);
  // Words that do close are still decoded among them.
  EXPECT_EQ(DecodeRfc2047(unclosed + "\n =?utf-8?q?caf=C3=A9?="),
            unclosed + "\n caf\u00e9");
  const double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  EXPECT_LT(secs, 10) << "quadratic in the number of \"=?\"";
}

TEST(MailTextTest, DecodeQuotedPrintable) {
  const Case cases[] = {
      {"caf=E9", "caf\xe9"},
      {"soft=\nbreak", "softbreak"},
      {"soft=\r\nbreak", "softbreak"},
      {"soft=  \nbreak", "softbreak"},  // blanks after "=" are tolerated
      {"a=3Db", "a=b"},
      {"lower=c3=a9", "lower\xc3\xa9"},
      {"not =ZZ hex", "not =ZZ hex"},
      {"trailing =", "trailing "},
      {"line one\nline two\n", "line one\nline two\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeQuotedPrintable(c.in), c.want) << c.in;
  }
}

TEST(MailTextTest, DecodeBase64) {
  const Case cases[] = {
      {"aGVsbG8=", "hello"},
      {"aGVs\nbG8gd29y\r\nbGQ=", "hello world"},
      {"aGVsbG8", "hello"},     // missing padding
      {"aG!Vs*bG8=", "hello"},  // junk skipped
      {"", ""},
      {"w6k=", "\xc3\xa9"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeBase64(c.in), c.want) << c.in;
  }
}

TEST(MailTextTest, CharsetToUtf8) {
  struct CharsetCase {
    std::string bytes;
    std::string charset;
    std::string want;
  };
  const CharsetCase cases[] = {
      {"caf\xe9", "iso-8859-1", "caf\u00e9"},
      {"caf\xe9", "ISO-8859-1", "caf\u00e9"},
      {"caf\xe9", "\"latin1\"", "caf\u00e9"},
      // Latin-1 labels are read as windows-1252 (0x93/0x94 quotes).
      {"\x93quoted\x94", "iso-8859-1", "\u201cquoted\u201d"},
      {"\x80", "windows-1252", "\u20ac"},
      {"\xa4", "iso-8859-15", "\u20ac"},
      {"\xcf\xf0\xe8", "windows-1251", "\u041f\u0440\u0438"},
      {"\xc4\xe3", "koi8-r", "\u0434\u0426"},
      // UTF-8 passes through; invalid bytes in it fall back per byte.
      {"caf\xc3\xa9", "utf-8", "caf\u00e9"},
      {"caf\xc3\xa9 caf\xe9", "utf-8", "caf\u00e9 caf\u00e9"},
      // No charset: UTF-8 when valid, else windows-1252.
      {"Bj\xc3\xb8rn", "", "Bj\u00f8rn"},
      {"Bj\xf8rn", "", "Bj\u00f8rn"},
      {"Bj\xf8rn", "us-ascii", "Bj\u00f8rn"},
      // Unknown charset: windows-1252 fallback.
      {"caf\xe9", "x-bogus", "caf\u00e9"},
      // Undecodable bytes in a known multi-byte charset.
      {"ok\xff", "shift_jis", "ok\u00ff"},
      // Stateful ISO-2022-JP.
      {"\x1b$B$3$s\x1b(B", "iso-2022-jp", "\u3053\u3093"},
      // UTF-8 labelled with a single-byte charset is read as UTF-8; a
      // single-byte text that is not valid UTF-8 is still converted.
      {"Gr\xc3\xbc\xc3\x9f caf\xc3\xa9", "iso-8859-1",
       "Gr\u00fc\u00df caf\u00e9"},
      {"\xe2\x80\x94 dash", "windows-1252", "\u2014 dash"},
      {"\xd0\x9f\xd1\x80\xd0\xb8", "koi8-r", "\u041f\u0440\u0438"},
      {"caf\xe9 \xc3\xa9", "iso-8859-1", "caf\u00e9 \u00c3\u00a9"},
      {"\xc4\xe3", "koi8-r", "\u0434\u0426"},
      // No charset (a pipermail archive keeps no Content-Type) or only
      // "us-ascii": ISO-2022 escapes and runs of Cyrillic letters say the
      // charset; latin-1 and windows-1252 text is read as before.
      // ISO-2022-JP, whole and inside ASCII text (R-help 2002-August).
      {"\x1b$B$3$s$K$A$O\x1b(B", "", "\u3053\u3093\u306b\u3061\u306f"},
      {"Universit\x1b$B$3\x1b(B des", "us-ascii", "Universit\u3053 des"},
      // A terminal's colours are no ISO-2022 text.
      {"\x1b[31mred\x1b(B\x1b[m", "", "\x1b[31mred\x1b(B\x1b[m"},
      // KOI8-R: small letters at 0xC0..0xDF.
      {"\xd0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2", "",
       "\u043f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440"},
      // windows-1251: small letters at 0xE0..0xFF.
      {"\xef\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0", "",
       "\u043f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440"},
      // Latin-1 and windows-1252 stay so: accents one or two in a row.
      {"Gr\xf6\xdf"
       "e \xe9l\xe8ve na\xefve",
       "", "Gr\u00f6\u00dfe \u00e9l\u00e8ve na\u00efve"},
      {"\x93quoted\x94 \xc9T\xc9", "", "\u201cquoted\u201d \u00c9T\u00c9"},
      // A short run among ASCII is no Cyrillic text.
      {"caf\xe9\xe9\xe9", "", "caf\u00e9\u00e9\u00e9"},
      // Valid UTF-8 is UTF-8, Cyrillic too; a declared charset is obeyed.
      {"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2", "", "\u041f\u0440\u0438\u0432"},
      {"\xd0\xd2\xc9\xd7\xc5\xd4", "iso-8859-1",
       "\u00d0\u00d2\u00c9\u00d7\u00c5\u00d4"},
  };
  for (const CharsetCase& c : cases) {
    EXPECT_EQ(CharsetToUtf8(c.bytes, c.charset), c.want)
        << c.charset << ": " << c.bytes;
  }
}

TEST(MailTextTest, StripPgpArmor) {
  struct Case {
    std::string body;
    std::string want;
  };
  const std::string sig =
      "-----BEGIN PGP SIGNATURE-----\n"
      "Version: GnuPG v1.2.4 (GNU/Linux)\n"
      "\n"
      "iD8DBQFAKpa5Rl2yqmHvRlkRAn3BAJ9Z8l1qZbQp2o4aK5I3JpX9y8vJgQCfcZ0h\n"
      "=7kQe\n"
      "-----END PGP SIGNATURE-----\n";
  const Case cases[] = {
      {"no armor here\n", "no armor here\n"},
      {"-----BEGIN PGP SIGNED MESSAGE-----\n"
       "Hash: SHA1\n"
       "\n"
       "The release fixes the wombat parser.\n"
       "- -- \n"
       "Release manager\n"
       "\n" + sig + "trailing\n",
       "The release fixes the wombat parser.\n"
       "-- \n"
       "Release manager\n"
       "\n"
       "trailing\n"},
      // CRLF lines, and armor after a greeting.
      {"Hi,\r\n-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\n"
       "- --- a/x\r\nsigned\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\nabc\r\n"
       "-----END PGP SIGNATURE-----\r\n",
       "Hi,\r\n--- a/x\r\nsigned\r\n"},
      // A signature block alone.
      {"text\n" + sig, "text\n"},
      // Quoted armor, and a BEGIN without END, stay.
      {"> -----BEGIN PGP SIGNATURE-----\n> abc\n",
       "> -----BEGIN PGP SIGNATURE-----\n> abc\n"},
      {"-----BEGIN PGP SIGNATURE-----\nabc\n",
       "-----BEGIN PGP SIGNATURE-----\nabc\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StripPgpArmor(c.body), c.want) << c.body;
  }
}

TEST(MailTextTest, DeobfuscateAddress) {
  const Case cases[] = {
      {"ihaka at stat.auckland.ac.nz", "ihaka@stat.auckland.ac.nz"},
      {"Ngayee.Law at celeradiagnostics.com",
       "ngayee.law@celeradiagnostics.com"},
      {"  pdalgd at gmail.com ", "pdalgd@gmail.com"},
      // 2018: " at " written as " @ending from ", letters replaced.
      {"r@turner @ending from @uckl@nd@@c@nz", "r@turner@@uckl@nd@@c@nz"},
      {"lui@@@puerto @ending from gm@il@com", "lui@@@puerto@gm@il@com"},
      {"bgunter@4567 @ending from gm@il@com", "bgunter@4567@gm@il@com"},
      // 2019 on: "@end|ng |rom", "m@iii@g oii", "m@ili@g off".
      {"jenny@||u00 @end|ng |rom gm@||@com", "jenny@||u00@gm@||@com"},
      {"S@E|||@on @end|ng |rom LGCGroup@com", "s@e|||@on@lgcgroup@com"},
      {"pd@|gd m@iii@g oii gm@ii@com", "pd@|gd@gm@ii@com"},
      {"pd@|gd m@ili@g off gm@il@com", "pd@|gd@gm@il@com"},
      // Already an address, or no address at all.
      {"Bogus@Does.Not.Exist.com", "bogus@does.not.exist.com"},
      {"J.Brian.Adams", "j.brian.adams"},
      {"postmaster", "postmaster"},
      // Odd local parts from the archive keep their shape.
      {"brian.o'gorman at noaa.gov", "brian.o'gorman@noaa.gov"},
      {"partha_bagchi/hgsi_at_hgsi at hgsi.com",
       "partha_bagchi/hgsi_at_hgsi@hgsi.com"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DeobfuscateAddress(c.in), c.want) << c.in;
  }
}

struct SplitCase {
  const char* name;
  std::string body;
  std::string own;
  std::string quoted;
};

TEST(MailTextTest, SplitMailBody) {
  const SplitCase cases[] = {
      {"attribution, quote and 2005 footer",
       // R-help 2005-July style.
       "On Fri, 1 Jul 2005, Martin Maechler wrote:\n"
       "\n"
       "> Try the posting guide.\n"
       ">> nested quote\n"
       "\n"
       "Thanks, that works.\n"
       "\n"
       "______________________________________________\n"
       "R-help at stat.math.ethz.ch mailing list\n"
       "https://stat.ethz.ch/mailman/listinfo/r-help\n"
       "PLEASE do read the posting guide! "
       "http://www.R-project.org/posting-guide.html\n",
       "Thanks, that works.", "Try the posting guide.\nnested quote"},
      {"attribution wrapped over two lines",
       "On Thu, Jan 10, 2019 at 6:18 AM Naznin Sultana <zeny.stat at "
       "gmail.com>\n"
       "wrote:\n"
       "> Hi, I am writing a program\n"
       "Use the nnet package.\n",
       "Use the nnet package.", "Hi, I am writing a program"},
      {"writes: attribution and signature",
       "Peter Dalgaard BSA wrote:\n"
       "\n"
       "> Jose Ernesto Jardim <ernesto at ipimar.pt> writes:\n"
       ">\n"
       "> > Where can I find information?\n"
       "\n"
       "Yes !\n"
       "\n"
       "-- \n"
       "Jason Turner\n"
       "jasont at indigoindustrial.co.nz\n",
       "Yes !", "Where can I find information?"},
      {"1999 footer and bare -- signature",
       "I'm using R for calculations.\n"
       "\n"
       "--\n"
       "Bjorn-Helge Mevik <bhm at math.uio.no>\n"
       "-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-.-\n"
       "r-help mailing list -- Read "
       "http://www.ci.tuwien.ac.at/~hornik/R/R-FAQ.html\n",
       "I'm using R for calculations.", ""},
      {"footer without signature, 2016 form",
       "Use merge().\n"
       "\n"
       "\t[[alternative HTML version deleted]]\n"
       "\n"
       "______________________________________________\n"
       "R-help at r-project.org mailing list -- To UNSUBSCRIBE and more, see "
       "https://stat.ethz.ch/mailman/listinfo/r-help\n"
       "PLEASE do read the posting guide "
       "http://www.R-project.org/posting-guide.html\n"
       "and provide commented, minimal, self-contained, reproducible code.\n",
       "Use merge().\n\n\t[[alternative HTML version deleted]]", ""},
      {"quoted footer is dropped from the quote",
       "> my question\n"
       "> ______________________________________________\n"
       "> R-help at r-project.org mailing list\n"
       "> https://stat.ethz.ch/mailman/listinfo/r-help\n"
       "\n"
       "my answer\n",
       "my answer", "my question"},
      {"next part notes",
       "Sorry miss that detail :-)\n"
       "-------------- next part --------------\n"
       "A non-text attachment was scrubbed...\n"
       "Name: ernesto.vcf\n",
       "Sorry miss that detail :-)", ""},
      {"Quoting attribution",
       "Quoting Bert Gunter <bgunter at gene.com>:\n"
       "> use lapply\n"
       "ok\n",
       "ok", "use lapply"},
      {"Outlook original message goes to quoted",
       "Try this.\n"
       "\n"
       "-----Original Message-----\n"
       "From: someone\n"
       "Subject: help\n",
       "Try this.", "From: someone\nSubject: help"},
      {"a rule line without footer text is kept",
       "a\n"
       "________________________\n"
       "b\n",
       "a\n________________________\nb", ""},
      {"empty", "", "", ""},
  };
  for (const SplitCase& c : cases) {
    const MailBodyParts p = SplitMailBody(c.body, /*is_reply=*/true);
    EXPECT_EQ(p.own, c.own) << c.name;
    EXPECT_EQ(p.quoted, c.quoted) << c.name;
  }
}

// A message that starts a thread has nothing to quote: R-help questions
// paste R console lines, which start with "> ".
TEST(MailTextTest, SplitMailBodyKeepsConsoleLinesOfAThreadStarter) {
  const std::string body =
      "I get this error, what am I doing wrong?\n"
      "\n"
      "> fit <- glm(y ~ x + offset(log(exposure)), family = poisson)\n"
      "Error in eval(...) : object 'exposure' not found\n"
      "> sessionInfo()\n"
      "R version 3.5.2 (2018-12-20)\n"
      "\n"
      "-- \n"
      "Q\n";
  const MailBodyParts starter = SplitMailBody(body, /*is_reply=*/false);
  EXPECT_EQ(starter.own,
            "I get this error, what am I doing wrong?\n"
            "\n"
            "> fit <- glm(y ~ x + offset(log(exposure)), family = poisson)\n"
            "Error in eval(...) : object 'exposure' not found\n"
            "> sessionInfo()\n"
            "R version 3.5.2 (2018-12-20)");
  EXPECT_EQ(starter.quoted, "");
  // In a reply the same lines are quotes.
  const MailBodyParts reply = SplitMailBody(body, /*is_reply=*/true);
  EXPECT_EQ(reply.own,
            "I get this error, what am I doing wrong?\n"
            "\n"
            "Error in eval(...) : object 'exposure' not found\n"
            "R version 3.5.2 (2018-12-20)");
  EXPECT_EQ(reply.quoted,
            "fit <- glm(y ~ x + offset(log(exposure)), family = poisson)\n"
            "sessionInfo()");
}

// ">>> " is a Python prompt, code in any message; in a reply it is also a
// third-level quote when it touches other quote lines or an attribution.
TEST(MailTextTest, SplitMailBodyPythonPrompts) {
  struct PromptCase {
    const char* name;
    std::string body;
    std::string own;
    std::string quoted;
  };
  const PromptCase cases[] = {
      {"session after a quote",
       "> How do I get a default?\n"
       "\n"
       "Like this:\n"
       "\n"
       ">>> d = frozendictish({'a': 1})\n"
       ">>> d.setdefault('b', 2)\n"
       "Traceback (most recent call last):\n"
       ">>> for k in d:\n"
       "...     print(k)\n"
       "a\n",
       "Like this:\n"
       "\n"
       ">>> d = frozendictish({'a': 1})\n"
       ">>> d.setdefault('b', 2)\n"
       "Traceback (most recent call last):\n"
       ">>> for k in d:\n"
       "...     print(k)\n"
       "a",
       "How do I get a default?"},
      {"third-level quotes",
       "Ann wrote:\n"
       "> Bob wrote:\n"
       ">> Cy wrote:\n"
       ">>> deepest text\n"
       ">>> more of it\n"
       ">>\n"
       ">> middle text\n"
       "\n"
       "my answer\n",
       "my answer", "deepest text\nmore of it\n\nmiddle text"},
      {"third-level quote after an attribution",
       "On Mon, Cy wrote:\n"
       ">>> deepest text\n"
       "\n"
       "my answer\n",
       "my answer", "deepest text"},
      {"quoted session stays quoted",
       "> >>> d.setdefault('b', 2)\n"
       "\n"
       "That raises.\n",
       "That raises.", "d.setdefault('b', 2)"},
  };
  for (const PromptCase& c : cases) {
    const MailBodyParts p = SplitMailBody(c.body, /*is_reply=*/true);
    EXPECT_EQ(p.own, c.own) << c.name;
    EXPECT_EQ(p.quoted, c.quoted) << c.name;
  }
  // A thread starter keeps the whole session.
  const std::string session =
      "Consider:\n\n>>> d = frozendictish({'a': 1})\n"
      ">>> d.setdefault('b', 2)\nTypeError: unhashable\n";
  EXPECT_EQ(SplitMailBody(session, /*is_reply=*/false).own,
            "Consider:\n\n>>> d = frozendictish({'a': 1})\n"
            ">>> d.setdefault('b', 2)\nTypeError: unhashable");
}

// IndexedBody, which the indexer, snippets and thread views share, asks
// SplitMailBody about quotes only for a message with a parent.
// A split that stops at an own-text limit still judges each line with the
// lines after it: its own text is the full split's, cut after a line.
TEST(MailTextTest, SplitMailBodyStopsAtAnOwnLimit) {
  const std::string body =
      "First paragraph of the reply, long enough to pass a small limit.\n"
      "\n"
      "On Mon, 3 Mar 2003 10:00:00 +0000, John Smith\n"
      "  <john@example.org> wrote:\n"
      "> quoted line one\n"
      "> quoted line two\n"
      "Second paragraph after the quote.\n"
      "-- \n"
      "signature\n";
  const MailBodyParts full = SplitMailBody(body, /*is_reply=*/true);
  EXPECT_FALSE(full.stopped);
  EXPECT_EQ(full.own,
            "First paragraph of the reply, long enough to pass a small "
            "limit.\n\nSecond paragraph after the quote.");
  for (size_t limit = 0; limit < full.own.size() + 8; ++limit) {
    const MailBodyParts cut = SplitMailBody(body, true, limit);
    EXPECT_EQ(full.own.compare(0, cut.own.size(), cut.own), 0) << limit;
    // Not stopped: every line was read, so the own text is all there.
    if (!cut.stopped) {
      EXPECT_EQ(cut.own, full.own) << limit;
    }
    if (limit < 60) {
      EXPECT_TRUE(cut.stopped) << limit;
    }
    // The wrapped attribution (two lines) never leaks into the own text.
    EXPECT_EQ(cut.own.find("John Smith"), std::string::npos) << limit;
  }
}

TEST(MailTextTest, IndexedBodyQuotesOnlyInReplies) {
  Item item;
  item.source = Source::kMail;
  item.text = "Why?\n> sessionInfo()\nR version 3.5.2\n";
  EXPECT_EQ(schema::IndexedBody(item),
            "Why?\n> sessionInfo()\nR version 3.5.2");
  item.parent = "q1@example.com";
  EXPECT_EQ(schema::IndexedBody(item), "Why?\nR version 3.5.2");
}

// own_lines: where own's lines are in the body, those that follow each
// other as one span; a CRLF line's CR is not part of its span.
TEST(MailTextTest, SplitMailBodyGivesItsOwnLines) {
  const std::string body =
      "Hi all,\n\nmy model fails:\n> quoted line\nStill there?\n-- \nsig\n";
  std::vector<TextSpan> spans;
  const MailBodyParts parts =
      SplitMailBody(body, /*is_reply=*/true, std::string::npos, &spans);
  EXPECT_EQ(parts.own, "Hi all,\n\nmy model fails:\nStill there?");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(body.substr(spans[0].offset, spans[0].length),
            "Hi all,\n\nmy model fails:");
  EXPECT_EQ(body.substr(spans[1].offset, spans[1].length), "Still there?");
  std::string own;
  ASSERT_TRUE(OwnFromSpans(body, spans, &own));
  EXPECT_EQ(own, parts.own);

  const std::string crlf = "Hi all,\r\nmy model fails\r\n> quoted\r\n";
  spans.clear();
  const MailBodyParts p2 = SplitMailBody(crlf, true, std::string::npos, &spans);
  EXPECT_EQ(p2.own, "Hi all,\nmy model fails");
  // The lines, and the empty one after the last line break.
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(crlf.substr(spans[0].offset, spans[0].length), "Hi all,");
  EXPECT_EQ(crlf.substr(spans[1].offset, spans[1].length), "my model fails");
  EXPECT_EQ(spans[2].offset, crlf.size());
  EXPECT_EQ(spans[2].length, 0u);
  ASSERT_TRUE(OwnFromSpans(crlf, spans, &own));
  EXPECT_EQ(own, p2.own);
  // A span outside the body.
  spans.back().offset = static_cast<uint32_t>(crlf.size());
  spans.back().length = 1;
  EXPECT_FALSE(OwnFromSpans(crlf, spans, &own));
  EXPECT_EQ(own, p2.own);  // untouched
}

}  // namespace
}  // namespace threadsearch
