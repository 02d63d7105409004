// Tests for ReadMbox on fixtures cut byte for byte from the R-help archive
// (tests/data/mail/, see the file names for month and message indexes) and
// on small synthetic classic-mbox inputs.
//
// Expected counts, ids, parents and times were computed independently with
// Python 3 over the same files: separators counted with the regex
//   ^From (\S.*?) +(Mon|…|Sun) (Jan|…|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}$
// and dates with email.utils.parsedate_tz / mktime_tz.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "common/item.h"
#include "common/mail_text.h"
#include "common/schema.h"
#include "common/status.h"
#include "common/text.h"
#include "indexer/input_stream.h"
#include "indexer/readers.h"
#include "tests/testutil.h"

namespace threadsearch {
namespace {

const std::string kMailData = std::string(TS_TEST_DATA) + "/mail/";

struct ReadResult {
  Status status;
  std::vector<Item> items;
  std::vector<ReadError> errors;
};

ReadResult ReadStreamItems(InputStream& in, const std::string& list = "") {
  ReadResult r;
  ReadCallbacks cb;
  cb.on_item = [&](Item&& it) { r.items.push_back(std::move(it)); };
  cb.on_error = [&](const ReadError& e) { r.errors.push_back(e); };
  r.status = ReadMbox(in, list, cb);
  return r;
}

ReadResult ReadPath(const std::string& path, const std::string& list = "") {
  auto in = InputStream::Open(path);
  EXPECT_TRUE(in.ok()) << path << ": " << in.status().ToString();
  if (!in.ok()) return ReadResult{in.status(), {}, {}};
  return ReadStreamItems(**in, list);
}

ReadResult ReadText(std::string text, const std::string& name = "t.mbox",
                    const std::string& list = "") {
  auto in = InputStream::FromString(std::move(text), name);
  return ReadStreamItems(*in, list);
}

// One expected message of a fixture.
struct Want {
  std::string id;
  std::string author;
  std::string author_name;
  std::string parent;
  int64_t time;
  int separator_line;
  std::string title;
};

struct FixtureCase {
  std::string file;
  std::vector<Want> messages;
};

TEST(MailReaderTest, FixturesFromRHelp) {
  const FixtureCase cases[] = {
      {"r-help-1999-August-82-84.txt",
       {{"s3s3dxex5h2.fsf@janus.uio.no", "bhm@math.uio.no",
         "Bj\u00f8rn-Helge Mevik", "", 935134985, 1,
         "[R] Referencing R in journal paper?"},
        // In-Reply-To: "<id> (message from =?iso…?= on 20 Aug 1999 …)".
        {"199908201038.MAA13730@sophie.ethz.ch", "maechler@stat.math.ethz.ch",
         "Martin Maechler", "s3s3dxex5h2.fsf@janus.uio.no", 935145522, 22,
         "[R] Referencing R in journal paper?"},
        // Date with "(BST)" comment after the numeric zone.
        {"199908201042.LAA06474@rameau.mrc-bsu.cam.ac.uk",
         "jonathan.myles@mrc-bsu.cam.ac.uk", "Jonathan Myles",
         "s3s3dxex5h2.fsf@janus.uio.no", 935145769, 61,
         "[R] Referencing R in journal paper?"}}},
      // References only, no In-Reply-To: the parent is the last reference.
      {"r-help-2000-August-164-165.txt",
       {{"399D30D0.BBA8F6F4@ipimar.pt", "ernesto@ipimar.pt",
         "Jos\u00e9 Ernesto Jardim", "x2aeeaahtu.fsf@blueberry.kubism.ku.dk",
         966602960, 1, "[R] cook's distance"},
        {"399D377E.55FD727B@ipimar.pt", "ernesto@ipimar.pt",
         "Jos\u00e9 Ernesto Jardim", "x27l9eaf1j.fsf@blueberry.kubism.ku.dk",
         966604670, 39, "[R] cook's distance"}}},
      // The middle message has no address in From: nor in its separator
      // ("From =?iso-8859-1?Q?Micha=EBl?=  Fri Apr  9 …").
      {"r-help-2004-April-412-414.txt",
       {{"20040409055909.GA19974@muse.csie.ntu.edu.tw", "rafan@infor.org",
         "Rong-En Fan",
         "Pine.LNX.4.44.0404081113480.723-100000@itasca.stat."
         "uiowa.edu",
         1081490349, 1, "[R] socket clusters on snow dies easily"},
        {"5.0.2.1.2.20040409102435.00b900d8@utinam.univ-fcomte.fr",
         "micha\u00ebl", "Micha\u00ebl", "", 1081499214, 33, ""},
        {"LMEBLNBEKKODLAONNGJMEEDLCDAA.nolwenn.lemeur@nantes.inserm.fr",
         "nolwenn.lemeur@nantes.inserm.fr", "Nolwenn Le Meur", "", 1081502817,
         43, ""}}},
      // 2019: " at " mangled to " @ending from ".
      {"r-help-2019-January-158-159.txt",
       {{"CAO5UwgaeADkYcpma1ew=8w5wWS8ouRRPMcJmw+QmCTjZhG1tBA@mail.gmail.com",
         "@yekirin@gm@il@com", "Stanislav Syekirin", "", 1546724580, 1,
         "[R] [R-pkgs] New package readABF for reading Axon Binary Files"},
        {"1537914030.3979716.1547134542318.JavaMail.zimbra@cognigencorp.com",
         "@eb@@tien@bihorel@cognigencorp@com", "Sebastien Bihorel",
         "CAGAA5befSekEVgG-ty0LbKzHD2h3J-wS3=3wpTRB=r+UsLjtpw@mail.gmail.com",
         1547134542, 27, "[R] Diff'ing 2 strings"}}},
      // 2020: " at " mangled to " @end|ng |rom ".
      {"r-help-2020-March-6-7.txt",
       {{"CAC8ss30_mowZ9cj29vV8AyKJr0BRCAdbnmBGDYmi4pTecXjrBg@mail.gmail.com",
         "g||ted|||e2014@gm@||@com", "Ogbos Okike", "", 1583117685, 1,
         "[R] A new Paper on automatic selection of Turning Point"},
        {"CAGxFJbSjfrSCAgEkkH9CEo_6fVMguRKnYJTqqOikUBzXO+h3eA@mail.gmail.com",
         "bgunter@4567@gm@||@com", "Bert Gunter",
         "3587b5ba-708c-47fc-b33c-57970ec23844@me.com", 1583117670, 27,
         "[R] using mutate to remove all white space"}}},
  };
  for (const FixtureCase& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = kMailData + c.file;
    const ReadResult r = ReadPath(path, "r-help");
    ASSERT_OK(r.status);
    EXPECT_TRUE(r.errors.empty());
    ASSERT_EQ(r.items.size(), c.messages.size());
    for (size_t i = 0; i < c.messages.size(); ++i) {
      const Item& it = r.items[i];
      const Want& w = c.messages[i];
      SCOPED_TRACE(w.id);
      EXPECT_EQ(it.source, Source::kMail);
      EXPECT_EQ(it.type, ItemType::kMessage);
      EXPECT_EQ(it.id, w.id);
      EXPECT_EQ(it.author, w.author);
      EXPECT_EQ(it.author_name, w.author_name);
      EXPECT_EQ(it.parent, w.parent);
      EXPECT_EQ(it.time, w.time);
      EXPECT_EQ(it.origin, path + ":" + std::to_string(w.separator_line));
      if (!w.title.empty()) {
        EXPECT_EQ(it.title, w.title);
      }
      EXPECT_EQ(it.list, "r-help");
      EXPECT_FALSE(it.text.empty());
    }
  }
}

TEST(MailReaderTest, BodyTextIsDecodedAndKept) {
  // Message 83 of 1999-August has a raw latin-1 byte ("Bj\xf8rn") in its
  // body; it must come out as UTF-8. Quotes and footers stay in the text.
  const ReadResult r = ReadPath(kMailData + "r-help-1999-August-82-84.txt");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 3u);
  EXPECT_NE(r.items[1].text.find("BHMevik> -- Bj\u00f8rn-Helge Mevik"),
            std::string::npos);
  EXPECT_EQ(r.items[0].text.rfind("I'm using R for calculations", 0), 0u);
  EXPECT_NE(r.items[0].text.find("r-help mailing list"), std::string::npos);
  // Trailing blank lines between messages are not part of the body.
  EXPECT_EQ(r.items[0].text.back(), '_');
}

TEST(MailReaderTest, BodyLineStartingWithFromIsNotASeparator) {
  const ReadResult r = ReadPath(kMailData + "r-help-2019-January-158-159.txt");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 2u);
  // The reply's body starts with "From which the diffobj package?" and
  // quotes a 'From: "Martin …" <traxplayer at gmail.com>' line.
  EXPECT_EQ(r.items[1].text.rfind("From which the diffobj package?", 0), 0u);
  EXPECT_NE(r.items[1].text.find("From: \"Martin M"), std::string::npos);
}

// Some mailers double the brackets ("In-Reply-To: <<id>>", R-help
// 2023-August): the id is the same as the parent's Message-ID.
TEST(MailReaderTest, DoubledBracketsAroundIdsAreOneId) {
  const ReadResult r = ReadText(
      "From a at example.org  Wed Aug  9 04:00:00 2023\n"
      "From: a at example.org (A)\n"
      "Date: Wed, 09 Aug 2023 04:00:00 +0000\n"
      "Subject: [R] help\n"
      "Message-ID: <65B70EC5@Gandalf>\n"
      "\n"
      "A question.\n"
      "\n"
      "From b at example.org  Wed Aug  9 06:30:21 2023\n"
      "From: b at example.org (B)\n"
      "Date: Wed, 09 Aug 2023 06:30:21 +0000\n"
      "Subject: Re: [R] help\n"
      "In-Reply-To: <<65B70EC5@Gandalf>>\n"
      "References: <<65B70EC5@Gandalf>>\n"
      "Message-ID: <emc7fd90@bdf170ac.com>\n"
      "\n"
      "An answer.\n"
      "\n"
      "From c at example.org  Wed Aug  9 18:26:52 2023\n"
      "From: c at example.org (C)\n"
      "Date: Wed, 9 Aug 2023 17:26:52 +0100\n"
      "Subject: Re: [R] help\n"
      "References: <<65B70EC5@Gandalf>\n"
      " <emc7fd90@bdf170ac.com>>\n"
      "Message-ID: <46b459ef@sapo.pt>\n"
      "\n"
      "Another.\n");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 3u);
  EXPECT_EQ(r.items[0].id, "65B70EC5@Gandalf");
  EXPECT_EQ(r.items[1].parent, "65B70EC5@Gandalf");
  EXPECT_EQ(r.items[2].parent, "emc7fd90@bdf170ac.com");
  EXPECT_EQ(r.items[2].thread_hint, "65B70EC5@Gandalf");
}

TEST(MailReaderTest, BadRecordKeepsItsNeighbours) {
  const std::string good =
      ReadFileOrDie(kMailData + "r-help-2000-August-164-165.txt");
  const size_t second = good.find("From ernesto at ipimar.pt  Fri Aug 18 15");
  ASSERT_NE(second, std::string::npos);
  // A separator followed by no header at all, between two real messages.
  const std::string bad =
      "From nobody at example.org  Fri Aug 18 14:00:00 2000\n"
      "this line is no header\n"
      "\n"
      "body\n\n";
  const std::string text = good.substr(0, second) + bad + good.substr(second);
  const ReadResult r = ReadText(text, "bad.txt");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[0].id, "399D30D0.BBA8F6F4@ipimar.pt");
  EXPECT_EQ(r.items[1].id, "399D377E.55FD727B@ipimar.pt");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].where, "bad.txt:39");
  EXPECT_NE(r.errors[0].message.find("no headers"), std::string::npos);
  // Origins count lines of the combined input.
  EXPECT_EQ(r.items[1].origin, "bad.txt:44");
}

TEST(MailReaderTest, NoSeparatorsIsAnError) {
  const ReadResult r = ReadText(
      "Subject: hello\n\nFrom the start, no separator.\n", "notmail.txt");
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("notmail.txt"), std::string::npos);
  EXPECT_NE(r.status.message().find("no separators"), std::string::npos);
  EXPECT_TRUE(r.items.empty());
}

TEST(MailReaderTest, EmptyFileHasNoItems) {
  for (const std::string text : {"", "\n", "\n\n  \n"}) {
    const ReadResult r = ReadText(text, "empty.txt");
    EXPECT_OK(r.status);
    EXPECT_TRUE(r.items.empty());
    EXPECT_TRUE(r.errors.empty());
  }
  TempDir dir;
  WriteFileOrDie(dir.Sub("empty.mbox"), "");
  const ReadResult r = ReadPath(dir.Sub("empty.mbox"));
  EXPECT_OK(r.status);
  EXPECT_TRUE(r.items.empty());
}

TEST(MailReaderTest, SeparatorForms) {
  struct SepCase {
    std::string line;
    bool is_separator;
  };
  const SepCase cases[] = {
      {"From ihaka at stat.auckland.ac.nz  Tue Apr  1 10:35:48 1997", true},
      {"From g||ted|||e2014 @end|ng |rom gm@||@com  Sun Mar  1 22:12:04 2020",
       true},
      {"From J.Brian.Adams  Sat Dec 30 21:19:57 2000", true},
      {"From MAILER-DAEMON Fri Jul  8 12:08:34 2011", true},
      {"From user@example.com Thu Jan  1 00:00:00 2004 +0000", true},
      {"From user@example.com Tue Jan 20 13:23:57 EST 2004", true},
      {"From user@example.com Tue Jan 20 13:23:57 2004 EST", true},
      {"From user@example.com\tMon Jan  5 10:00:00 2004", true},
      {"From the dataset, I selected one participant", false},
      {"From : arun", false},
      {"From  Mon Jan  5 10:00:00 2004", false},             // no address
      {"From user@example.com Mon Jan  5 10:00:00", false},  // no year
      {"From user@example.com Mon Foo  5 10:00:00 2004", false},
      {"From user@example.com Mon Jan 45 10:00:00 2004", false},
      {"From user@example.com Mon Jan  5 25:00:00 2004", false},
      {"from user@example.com Mon Jan  5 10:00:00 2004", false},
      // ctime without seconds, and the RFC 2822 dates some exporters write.
      {"From MAILER-DAEMON Fri Jul  8 12:08 2011", true},
      {"From user@example.com Tue, 20 Jan 2004 13:23:57 +0100", true},
      {"From user@example.com Tue 20 Jan 2004 13:23:57 -0500", true},
      {"From user@example.com 20 Jan 2004 13:23 GMT", true},
      {"From - 2 Feb 2010 08:00:00", true},
      {"From user@example.com Tue, 20 Jan 2004 14:23:57 +0100 (CET)", true},
      {"From user@example.com Tue, 20 Jan 2004 15:23:57 PKT", true},
      {"From user@example.com Tue, 20 Jan 2004", false},  // no time
      {"From user@example.com Tue, 20 Jan 2004 13:23:57 +0100 ok", false},
      {"From user@example.com Tue, 20 Foo 2004 13:23:57 +0100", false},
      {"From user@example.com Tue, 45 Jan 2004 13:23:57 +0100", false},
      {"From user@example.com Tue, 20 Jan 1904 13:23:57 +0100", false},
      {"From the 3 Jan 2004 12:00 meeting notes", false},
      {"From bob 11 Mar 2003 14:30 GMT", false},  // no address
      {"From Mon 10 Mar 2003 09:00", false},
      {"From user at example.com Tue, 20 Jan 2004 13:23:57 +0100", false},
  };
  for (const SepCase& c : cases) {
    const std::string text =
        "From a@b.c Mon Jan  5 09:00:00 2004\n"
        "Subject: first\n\nbody\n\n" +
        c.line + "\nSubject: second\n\nmore\n";
    const ReadResult r = ReadText(text);
    ASSERT_OK(r.status);
    EXPECT_EQ(r.items.size(), c.is_separator ? 2u : 1u) << c.line;
  }
}

// The rarer forms (a ctime without seconds, an RFC 2822 date) start a
// message only after a blank line, and never in a pipermail archive, whose
// body lines starting with "From " are not escaped; the full ctime form
// stands anywhere, as before.
TEST(MailReaderTest, RareSeparatorFormsOnlyAfterABlankLine) {
  const std::string rare[] = {
      "From a@b.c Tue, 20 Jan 2004 13:23:57 +0100",
      "From MAILER-DAEMON Fri Jul  8 12:08 2011",
  };
  for (const std::string& line : rare) {
    // Classic mbox: inside a paragraph it is body text.
    ReadResult r = ReadText(
        "From a@b.c Mon Jan  5 09:00:00 2004\nSubject: first\n\nbody\n" +
        line + "\nSubject: second\n\nmore\n");
    ASSERT_OK(r.status);
    ASSERT_EQ(r.items.size(), 1u) << line;
    EXPECT_NE(r.items[0].text.find(line), std::string::npos) << line;
    // Pipermail: not even after a blank line.
    r = ReadText(
        "From a at b.c  Mon Jan  5 09:00:00 2004\nFrom: a at b.c (A)\n"
        "Subject: first\n\nbody\n\n" +
        line + "\nSubject: second\n\nmore\n");
    ASSERT_OK(r.status);
    EXPECT_EQ(r.items.size(), 1u) << line;
  }
  // The full ctime form after a paragraph line, as classic mbox has it.
  const ReadResult r = ReadText(
      "From a@b.c Mon Jan  5 09:00:00 2004\nSubject: first\n\nbody\n"
      "From a@b.c Mon Jan  5 10:00:00 2004\nSubject: second\n\nmore\n");
  ASSERT_OK(r.status);
  EXPECT_EQ(r.items.size(), 2u);
}

// A message without a Date: header takes its separator's time; an RFC 2822
// separator's zone counts.
TEST(MailReaderTest, SeparatorTimesWithoutDateHeaders) {
  const ReadResult r = ReadText(
      "From a@b.c Tue, 20 Jan 2004 13:23:57 +0100\n"
      "Subject: first\n\nbody\n\n"
      "From a@b.c Tue Jan 20 13:23:57 2004\n"
      "Subject: second\n\nbody\n\n"
      "From a@b.c Tue Jan 20 13:23 2004\n"
      "Subject: third\n\nbody\n");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 3u);
  // date -u -d '2004-01-20 13:23:57' +%s
  const int64_t utc = 1074605037;
  EXPECT_EQ(r.items[0].time, utc - 3600);
  EXPECT_EQ(r.items[1].time, utc);
  EXPECT_EQ(r.items[2].time, utc - 57);
  EXPECT_EQ(r.items[0].author, "a@b.c");
}

TEST(MailReaderTest, Dates) {
  struct DateCase {
    std::string date;
    int64_t want;
  };
  // Separator date Mon Jan  5 09:00:00 2004 UTC = 1073293200, used when the
  // Date: header cannot be read.
  const DateCase cases[] = {
      {"Wed, 08 Jul 1998 17:04:05 -0400", 899931845},
      {"Tue, 1 Apr 1997 06:09:09 -0500", 859892949},
      {"01 Apr 1997 10:57:08 +0200", 859885028},  // no weekday
      {"Thu, 17 Apr 1997 08:52:47 -0700 (PDT)", 861292367},
      {"Tue Dec 10 00:35:03 2002", 1039480503},  // ctime, read as UTC
      {"Mon Dec  2 10:35:11 2002", 1038825311},
      {"Fri, 14 Nov 1997 10:52:38 GMT", 879504758},
      {"Sat, 18 Apr 1998 11:48:00 EDT", 892914480},
      {"Wed, 29 Mar 2000 14:59:29 EST", 954359969},
      {"Mon, 3 Dec 2007 21:12:50 UT", 1196716370},
      {"Wed, 23 Apr 97 20:43:34 -0700", 861853414},  // two-digit year
      {"Thu, 9 Mar 0 08:42:30 +0000 (GMT)", 952591350},
      {"Mon, 12 Feb 2001 19:08 +0000 (GMT)", 982004880},  // no seconds
      {"Tue, 21 Dec 1999 15:08:25 CET (+0100)", 945785305},
      {"Thu, 26 Aug 1999 11:20:59 GMT+2", 935659259},
      {"Tue, 29 Jul 1997 08:57:46 EST5EDT", 870184666},
      {"Fri, 13 Aug 2004 10:08:38 (GMT)", 1092391718},
      {"18-Oct-2005 16:32:15 ZE12", 1129653135},
      {"Thu, 13 Jul 2006 15:29:32 %z (CDT)", 1152822572},
      {"Mon, 14 Oct 2002 12:50:13 0200", 1034592613},
      {"Wed, 31 Dec 1997 17:43:56 -75200 (PST)", 883619036},
      // 2019-01-07 00:00 UTC = 1546819200.
      {"Mon, 7 Jan 2019 10:00:00 +01:00", 1546851600},
      {"Mon, 7 Jan 2019 10.00.00 +0100", 1546851600},
      {"2019-01-07 10:00:00 +0100", 1546851600},
      {"Monday, January 7, 2019 10:00 PM", 1546898400},
      {"Mon, 7 Jan 2019 12:30 AM", 1546821000},
      {"Mon, 7 Jan 2019 12:30 PM +0100", 1546860600},
      {"not a date", 1073293200},
      {"", 1073293200},
  };
  for (const DateCase& c : cases) {
    const std::string text =
        "From a at b.c  Mon Jan  5 09:00:00 2004\nFrom: a at b.c (A)\n"
        "Date: " +
        c.date + "\nSubject: s\nMessage-ID: <x@y>\n\nbody\n";
    const ReadResult r = ReadText(text);
    ASSERT_OK(r.status);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].time, c.want) << c.date;
  }
}

TEST(MailReaderTest, ClassicMboxWithMime) {
  const std::string text =
      "From alice@example.org Mon Jan  5 10:00:00 2004\n"
      "From: \"Alice Example\" <Alice@Example.org>\n"
      "Date: Mon, 5 Jan 2004 11:00:00 +0100\n"
      "Subject: =?utf-8?Q?Caf=C3=A9?=\n"
      "  menu\n"
      "Message-ID: <m1@example.org>\n"
      "List-Id: Example list <example-l.lists.example.org>\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/alternative; boundary=\"XYZ\"\n"
      "\n"
      "preamble\n"
      "--XYZ\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "caf=E9 au lait, long line=\n"
      " joined\n"
      ">From here on\n"
      "--XYZ\n"
      "Content-Type: text/html\n"
      "\n"
      "<p>html version</p>\n"
      "--XYZ--\n"
      "epilogue\n"
      "\n"
      "From bob@example.org Mon Jan  5 12:00:00 2004\n"
      "From: Bob <bob@example.org>\n"
      "Subject: Re: Cafe\n"
      "In-Reply-To: Alice's message of Mon, 5 Jan 2004\n"
      "References: <m0@example.org>\n"
      " <m1@example.org>\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "w6dhIHZhIGJpZW4K\n"
      "\n"
      "From carol@example.org Mon Jan  5 13:00:00 2004\n"
      "From: carol@example.org\n"
      "Subject: html only\n"
      "Message-ID: <m3@example.org>\n"
      "Content-Type: multipart/mixed; boundary=b1\n"
      "\n"
      "--b1\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<p>only <b>html</b></p>\n"
      "--b1\n"
      "Content-Type: application/octet-stream\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "AAECAw==\n"
      "--b1--\n";
  const ReadResult r = ReadText(text, "dir/archive.mbox");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 3u);
  const Item& a = r.items[0];
  EXPECT_EQ(a.author, "alice@example.org");
  EXPECT_EQ(a.author_name, "Alice Example");
  EXPECT_EQ(a.title, "Caf\u00e9 menu");
  EXPECT_EQ(a.id, "m1@example.org");
  EXPECT_EQ(a.time, 1073296800);
  EXPECT_EQ(a.list, "example-l");  // from List-Id
  EXPECT_EQ(a.text, "caf\u00e9 au lait, long line joined\nFrom here on");
  EXPECT_EQ(a.origin, "dir/archive.mbox:1");

  const Item& b = r.items[1];
  EXPECT_EQ(b.author, "bob@example.org");
  EXPECT_EQ(b.author_name, "Bob");
  // No <id> in In-Reply-To: the last References id is the parent.
  EXPECT_EQ(b.parent, "m1@example.org");
  EXPECT_EQ(b.text, "\u00e7a va bien");
  // No Date: the separator's date; no Message-ID: a generated stable id.
  EXPECT_EQ(b.time, 1073304000);
  EXPECT_EQ(b.id.rfind("gen-", 0), 0u);
  EXPECT_EQ(b.list, "archive");  // the file's stem
  const ReadResult again = ReadText(text, "dir/archive.mbox");
  ASSERT_EQ(again.items.size(), 3u);
  EXPECT_EQ(again.items[1].id, b.id);

  const Item& c = r.items[2];
  EXPECT_NE(c.text.find("only"), std::string::npos);
  EXPECT_NE(c.text.find("html"), std::string::npos);
  EXPECT_EQ(c.text.find("<p>"), std::string::npos);
}

// Real mail that hid or garbled its text: a clear-signed message (armor and
// signature are not text), UTF-8 labelled iso-8859-1, and a
// multipart/alternative whose text/plain part is blank beside the HTML.
TEST(MailReaderTest, SignedMislabelledAndBlankPlainMessages) {
  const std::string text =
      "From a@example.org Mon Jan  5 10:00:00 2004\n"
      "From: a@example.org\n"
      "Subject: [ANNOUNCE] libfoo 1.2\n"
      "Message-ID: <pgp1@example.org>\n"
      "\n"
      "-----BEGIN PGP SIGNED MESSAGE-----\n"
      "Hash: SHA1\n"
      "\n"
      "libfoo 1.2 fixes the overflow in the wombat parser.\n"
      "- --\n"
      "Release manager\n"
      "-----BEGIN PGP SIGNATURE-----\n"
      "Version: GnuPG v1.2.4 (GNU/Linux)\n"
      "\n"
      "iD8DBQFAKpa5Rl2yqmHvRlkRAn3BAJ9Z8l1qZbQp2o4aK5I3JpX9y8vJgQCfcZ0h\n"
      "=7kQe\n"
      "-----END PGP SIGNATURE-----\n"
      "\n"
      "From b@example.org Mon Jan  5 11:00:00 2004\n"
      "From: =?iso-8859-1?Q?J=C3=B6rg?= <b@example.org>\n"
      "Subject: mislabel\n"
      "Message-ID: <mis1@example.org>\n"
      "MIME-Version: 1.0\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "Gr\xc3\xbc\xc3\x9f" "e aus Z\xc3\xbcrich, caf\xc3\xa9.\n"
      "\n"
      "From c@example.org Mon Jan  5 12:00:00 2004\n"
      "From: c@example.org\n"
      "Subject: blank plain part\n"
      "Message-ID: <alt1@example.org>\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/alternative; boundary=\"b1\"\n"
      "\n"
      "--b1\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "\n"
      "--b1\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<div>Only the html has the <b>okapi</b> text</div>\n"
      "--b1--\n";
  const ReadResult r = ReadText(text);
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 3u);
  EXPECT_EQ(r.items[0].text,
            "libfoo 1.2 fixes the overflow in the wombat parser.\n"
            "--\n"
            "Release manager");
  EXPECT_EQ(r.items[1].author_name, "J\u00f6rg");
  EXPECT_EQ(r.items[1].text, "Gr\u00fc\u00dfe aus Z\u00fcrich, caf\u00e9.");
  EXPECT_EQ(r.items[2].text, "Only the html has the okapi text");
}

TEST(MailReaderTest, ListName) {
  const std::string text =
      "From a at b.c  Mon Jan  5 09:00:00 2004\nFrom: a at b.c\n"
      "Subject: s\n\nbody\n";
  struct ListCase {
    std::string name;
    std::string list_arg;
    std::string want;
  };
  const ListCase cases[] = {
      {"corpus/mailing-lists/r-help/2003-January.txt.gz", "", "r-help"},
      {"/x/r-devel/2015-March.txt", "", "r-devel"},
      {"/x/r-devel/2015-March.txt", "given", "given"},
      {"/x/y/archive.mbox", "", "archive"},
      {"archive.mbox.gz", "", "archive"},
      // Pipermail's other archive periods.
      {"/x/mylist/Week-of-Mon-20030106.txt", "", "mylist"},
      {"/x/mylist/Week-of-Mon-20030106.txt.gz", "", "mylist"},
      {"/x/otherlist/2003q1.txt", "", "otherlist"},
      {"/x/otherlist/2003q4.txt.gz", "", "otherlist"},
      {"/x/yearly/2003.txt", "", "yearly"},
      {"/x/yearly/2003.txt.gz", "", "yearly"},
      {"/x/daily/20030106.txt", "", "daily"},
      {"/x/daily/20030106.txt.gz", "", "daily"},
      // GNU's monthly mbox archives, and periods named .mbox or bare.
      {"/x/help-gnu-emacs/2020-01", "", "help-gnu-emacs"},
      {"/x/help-gnu-emacs/2020-12.gz", "", "help-gnu-emacs"},
      {"/x/mylist/2020-01.mbox", "", "mylist"},
      {"/x/mylist/2003-January.mbox.gz", "", "mylist"},
      {"/x/mylist/2003", "", "mylist"},
      {"/x/dev/202001.mbox", "", "dev"},
      // Not a period: named after the file.
      {"/x/y/2020-13", "", "2020-13"},
      {"/x/y/2003q5.txt", "", "2003q5"},
      {"/x/y/Week-of-Mon-2003.txt", "", "Week-of-Mon-2003"},
      {"/x/y/notes.txt", "", "notes"},
      // Standard input: no file, no list (unless given).
      {"<stdin>", "", ""},
      {"<stdin>", "given", "given"},
  };
  const auto check = [&](const ListCase& c) {
    const ReadResult r = ReadText(text, c.name, c.list_arg);
    ASSERT_OK(r.status);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].list, c.want) << c.name;
  };
  for (const ListCase& c : cases) check(c);
  // A monthly archive named relative to the working directory, as
  // `threadsearch index 2003-January.txt` run in the list's folder names
  // it: the list is that folder's name ("." was the list of
  // "./2003-January.txt" and of "/x/r-devel/./2015-March.txt").
  std::string cwd = std::filesystem::current_path().filename().string();
  if (cwd.empty()) cwd = "2003-January";
  const ListCase relative[] = {
      {"2003-January.txt", "", cwd},
      {"./2003-January.txt.gz", "", cwd},
      {"/x/r-devel/./2015-March.txt", "", "r-devel"},
      {"/x/y/../r-devel/2015-March.txt", "", "r-devel"},
  };
  for (const ListCase& c : relative) check(c);
}

// The list's own label, unless many hosts name their lists so (Apache's
// dev@ and user@ lists), where the whole List-Id keeps them apart.
TEST(MailReaderTest, ListNameFromListId) {
  const std::pair<const char*, const char*> cases[] = {
      {"R help <r-help.r-project.org>", "r-help"},
      {"<python-list.python.org>", "python-list"},
      {"<dev.spark.apache.org>", "dev.spark.apache.org"},
      {"<Dev.Kafka.Apache.Org>", "dev.kafka.apache.org"},
      {"Users <users.lists.example.org>", "users.lists.example.org"},
      {"<develop.example.org>", "develop"},
      {"<local>", "local"},
  };
  for (const auto& [list_id, want] : cases) {
    const std::string text =
        std::string("From a at b.c  Mon Jan  5 09:00:00 2004\nFrom: a at b.c\n"
                    "List-Id: ") +
        list_id + "\nSubject: s\n\nbody\n";
    const ReadResult r = ReadText(text, "/x/archive.mbox");
    ASSERT_OK(r.status);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].list, want) << list_id;
  }
}

TEST(MailReaderTest, OversizedMessageIsSkipped) {
  std::string text =
      "From a at b.c  Mon Jan  5 09:00:00 2004\nFrom: a at b.c\n"
      "Subject: big\n\n";
  const std::string line(1023, 'x');
  while (text.size() < (65u << 20)) {
    text += line;
    text += '\n';
  }
  text +=
      "From d at e.f  Mon Jan  5 10:00:00 2004\nFrom: d at e.f\n"
      "Subject: small\nMessage-ID: <small@e.f>\n\nok\n";
  const ReadResult r = ReadText(std::move(text), "big.mbox");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].id, "small@e.f");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].where, "big.mbox:1");
}

TEST(MailReaderTest, WholeCorpusMonth) {
  // 1,017 separator lines in 2003-January, counted with the Python regex
  // above (and `grep -c` on "From … at …  <ctime date>" lines).
  const std::string path =
      std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-January.txt.gz";
  const ReadResult r = ReadPath(path);
  ASSERT_OK(r.status);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.items.size(), 1017u);
  size_t with_parent = 0;
  for (const Item& it : r.items) {
    EXPECT_FALSE(it.id.empty());
    EXPECT_NE(it.author.find('@'), std::string::npos) << it.origin;
    EXPECT_GT(it.time, 1041292800) << it.origin;  // after 2002-12-31
    EXPECT_LT(it.time, 1044144000) << it.origin;  // before 2003-02-02
    EXPECT_EQ(it.list, "r-help");
    if (!it.parent.empty()) ++with_parent;
  }
  EXPECT_GT(with_parent, 500u);
  EXPECT_EQ(r.items.front().id,
            "OFE917B3FE.7EA90487-ON88256CA0.007FCBEA@pe-c.com");
  EXPECT_EQ(r.items.front().author, "ngayee.law@celeradiagnostics.com");
}

// tests/data/mail/python-list/2004-January.txt: a pipermail archive of
// another list, in the shapes R-help lacks: From headers the list rewrote
// for DMARC ("list at host (Name via List)", mangled too), and bodies and
// subjects in charsets the archive does not name (pipermail keeps no
// Content-Type): KOI8-R, windows-1251, ISO-2022-JP, latin-1.
TEST(MailReaderTest, PipermailOfAnotherList) {
  const ReadResult r = ReadPath(kMailData + "python-list/2004-January.txt");
  ASSERT_OK(r.status);
  EXPECT_TRUE(r.errors.empty());
  struct Want {
    std::string id, author, author_name, title, text;
  };
  const Want want[] = {
      {"mailman.1.1073296800.python-list@python.org", "guido@python.org",
       "Guido van Rossum", "Caf\u00e9 and PEP 8", ""},
      {"CAPTjJmo@mail.gmail.com", "python-list@python.org", "Chris Angelico",
       "Re: Cafe and PEP 8", "The list rewrote my From header."},
      {"barry1@python.org", "python-li@t@python@org", "Barry Warsaw",
       "Re: Cafe and PEP 8", ""},
      {"ivan1@example.ru", "ivan@example.ru", "\u0418\u0432\u0430\u043d",
       "\u041f\u0440\u0438\u0432\u0435\u0442",
       "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a "
       "\u0434\u0435\u043b\u0430? \u042d\u0442\u043e \u0442\u0435\u0441\u0442 "
       "\u043a\u043e\u0434\u0438\u0440\u043e\u0432\u043a\u0438."},
      {"petr1@example.ru", "petr@example.ru", "Petr", "Re: Privet",
       "\u0412\u0441\u0451 \u0445\u043e\u0440\u043e\u0448\u043e, "
       "\u0441\u043f\u0430\u0441\u0438\u0431\u043e."},
      {"taro1@example.jp", "taro@example.jp", "Taro", "\u30c6\u30b9\u30c8",
       "\u3053\u3093\u306b\u3061\u306f\u3001\u30c6\u30b9\u30c8\u3067\u3059"
       "\u3002"},
      {"joerg1@example.de", "joerg@example.de", "J\u00f6rg", "Gr\u00f6\u00dfe",
       "Die Gr\u00f6\u00dfe der \u00c4pfel, \u00bbna und?\u00ab"},
  };
  ASSERT_EQ(r.items.size(), std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    const Item& it = r.items[i];
    EXPECT_EQ(it.id, want[i].id);
    EXPECT_EQ(it.author, want[i].author) << it.id;
    EXPECT_EQ(it.author_name, want[i].author_name) << it.id;
    EXPECT_EQ(it.title, want[i].title) << it.id;
    if (!want[i].text.empty()) {
      EXPECT_EQ(it.text, want[i].text) << it.id;
    }
    EXPECT_EQ(it.list, "python-list") << it.id;
  }
}

// tests/data/mail/takeout-2024.mbox: a Google Takeout mbox of a Google
// Groups list and Mailman 3 mail. Google Groups rewrites From to
// "'Name' via group" <group@…> and keeps the writer in X-Original-From;
// Mailman to "Name via List" <list@…> with the writer in Reply-To. A
// base64 or quoted-printable part's CRLF line ends come out as "\n".
TEST(MailReaderTest, ListRewrittenFromAndEncodedLineEnds) {
  const ReadResult r = ReadPath(kMailData + "takeout-2024.mbox");
  ASSERT_OK(r.status);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.items.size(), 5u);
  EXPECT_EQ(r.items[0].author, "hans@example.de");
  EXPECT_EQ(r.items[0].author_name, "Hans M\u00fcller");
  EXPECT_EQ(r.items[0].title, "[go-nuts] Gr\u00fc\u00dfe");
  EXPECT_EQ(r.items[0].text, "Gr\u00fc\u00dfe aus K\u00f6ln.\nZweite Zeile.");
  EXPECT_EQ(r.items[0].list, "golang-nuts");
  EXPECT_EQ(r.items[0].time, 1704277230);
  EXPECT_EQ(r.items[1].author, "anne@example.org");
  EXPECT_EQ(r.items[1].author_name, "Anne Smith");
  EXPECT_EQ(r.items[1].text, "Line one\nLine two\n\nOld Mac\nline end.");
  EXPECT_EQ(r.items[1].parent, "abc-123@googlegroups.com");
  // A Reply-To naming someone else is not the writer's address.
  EXPECT_EQ(r.items[2].author, "mailman-users@mailman3.org");
  EXPECT_EQ(r.items[2].author_name, "Bob");
  // "via" in a name whose address is not the list's is part of the name.
  EXPECT_EQ(r.items[3].author, "tickets@example.org");
  EXPECT_EQ(r.items[3].author_name, "Travel via Rail");
  // "Python Ideas" is python-ideas@…'s display name.
  EXPECT_EQ(r.items[4].author, "jane@example.org");
  EXPECT_EQ(r.items[4].author_name, "Jane Roe");
}

// An In-Reply-To encoded whole as one RFC 2047 word (three in R-help, from
// 2000) names the parent once decoded.
TEST(MailReaderTest, EncodedInReplyTo) {
  const ReadResult r = ReadText(
      "From a at example.org  Mon Nov 27 10:00:00 2000\n"
      "From: a at example.org (A)\n"
      "Subject: Re: [R] plot\n"
      "In-Reply-To: "
      "=?iso-8859-1?Q?=3C000901c0553d$a200a090$c10616ac=40bbdo=2Ede=3E"
      "=3B_from_?=\n"
      "Message-ID: <reply@example.org>\n"
      "\n"
      "An answer.\n");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].parent, "000901c0553d$a200a090$c10616ac@bbdo.de");
}

// Japanese and Russian mailers wrote raw 8-bit subjects and names in the
// body's charset, without encoded words: the Content-Type's charset reads
// them (Shift_JIS was read as windows-1252 mojibake); UTF-8 headers stay.
TEST(MailReaderTest, RawHeadersInTheDeclaredCharset) {
  const ReadResult r = ReadText(
      "From taro@example.jp Mon Jan  5 10:00:00 2004\n"
      "From: \x8e\x52\x93\x63 <taro@example.jp>\n"
      "Subject: Re: \x83\x65\x83\x58\x83\x67 =?utf-8?q?caf=C3=A9?=\n"
      "Message-ID: <sjis@example.jp>\n"
      "Content-Type: text/plain; charset=Shift_JIS\n"
      "\n"
      "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\n"
      "\n"
      "From anna@example.de Mon Jan  5 11:00:00 2004\n"
      "From: J\xc3\xb6rg <joerg@example.de>\n"
      "Subject: Gr\xc3\xbc\xc3\x9f"
      "e\n"
      "Message-ID: <utf8@example.de>\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "\n"
      "ok\n");
  ASSERT_OK(r.status);
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[0].author_name, "\u5c71\u7530");
  EXPECT_EQ(r.items[0].title, "Re: \u30c6\u30b9\u30c8 caf\u00e9");
  EXPECT_EQ(r.items[0].text, "\u3053\u3093\u306b\u3061\u306f");
  EXPECT_EQ(r.items[1].author_name, "J\u00f6rg");
  EXPECT_EQ(r.items[1].title, "Gr\u00fc\u00dfe");
}

// The own-line spans the indexer keeps (schema::KeepOwnSpans) rebuild, for
// every message of real archives and as reply or not, the own text a
// fresh split gives, and so the same indexed body and excerpts; through
// the store's encoding too. Spans kept for another text are not used.
TEST(MailReaderTest, KeptOwnSpansGiveWhatASplitGives) {
  std::vector<Item> items;
  for (const std::string& path :
       {std::string(TS_CORPUS) + "/mailing-lists/r-help/2003-January.txt.gz",
        kMailData + "python-list/2004-January.txt",
        kMailData + "takeout-2024.mbox"}) {
    ReadResult r = ReadPath(path);
    ASSERT_OK(r.status);
    ASSERT_FALSE(r.items.empty()) << path;
    for (Item& it : r.items) items.push_back(std::move(it));
  }
  size_t own_lines = 0, spans = 0, replies = 0, clean = 0;
  for (const Item& item : items) {
    for (bool reply : {false, true}) {
      StoredItem s;
      s.item = item;
      s.item.parent = reply ? "p@example.org" : "";
      replies += reply && !item.parent.empty();
      schema::KeepOwnSpans(&s);
      ASSERT_NE(s.own_spans_for, 0u) << item.origin;
      const std::string want = SplitMailBody(s.item.text, reply).own;
      std::string own;
      ASSERT_TRUE(OwnFromSpans(s.item.text, s.own_spans, &own));
      EXPECT_EQ(own, want) << item.origin << (reply ? " (reply)" : "");
      own_lines += std::count(want.begin(), want.end(), '\n') + 1;
      spans += s.own_spans.size();
      clean += s.own_clean;
      EXPECT_EQ(s.own_clean, SanitizeUtf8(want) == want) << item.origin;
      StoredItem back;
      ASSERT_OK(DecodeStoredItem(EncodeStoredItem(s), &back));
      EXPECT_EQ(back.own_spans, s.own_spans) << item.origin;
      EXPECT_EQ(back.own_spans_for, s.own_spans_for) << item.origin;
      EXPECT_EQ(back.own_clean, s.own_clean) << item.origin;
      EXPECT_EQ(schema::IndexedBody(back), schema::IndexedBody(s.item))
          << item.origin;
      for (size_t n : {60, 150, 400}) {
        EXPECT_EQ(schema::BodyExcerpt(back, n),
                  schema::BodyExcerpt(s.item, n))
            << item.origin << " " << n;
      }
    }
  }
  EXPECT_GT(items.size(), 1000u);
  EXPECT_GT(replies, 500u);
  // Lines that follow each other share a span.
  EXPECT_LT(spans * 4, own_lines);
  // Most own texts need no sanitising (the readers decode to UTF-8).
  EXPECT_GT(clean * 10, items.size() * 2 * 9);

  // The kept spans are what is read when they fit: spans that name other
  // bytes of the same text give those.
  StoredItem s;
  s.item = items[0];
  s.item.text = "Thanks!\n> quoted\nBye\n";
  s.item.parent = "p@example.org";
  schema::KeepOwnSpans(&s);
  EXPECT_EQ(schema::IndexedBody(s), "Thanks!\nBye");
  ASSERT_EQ(s.own_spans.size(), 2u);
  s.own_spans[0] = {10, 6};  // "quoted"
  EXPECT_EQ(schema::IndexedBody(s), "quoted\nBye");
  EXPECT_EQ(schema::BodyExcerpt(s, 100), "quoted Bye");
  schema::KeepOwnSpans(&s);
  // Kept for another text or reply state: the item is split again.
  s.item.parent.clear();
  EXPECT_EQ(schema::IndexedBody(s), "Thanks!\n> quoted\nBye");
  s.item.parent = "p@example.org";
  s.item.text = "> quoted\nThanks!\nBye!\n";  // one byte longer
  EXPECT_EQ(schema::IndexedBody(s), "Thanks!\nBye!");
  EXPECT_EQ(schema::BodyExcerpt(s, 100), "Thanks! Bye!");
  // Control characters (kept in the stored text) are not shown.
  s.item.text = "Thanks\x01!\n> quoted\x02\nBye\x7f\n";
  schema::KeepOwnSpans(&s);
  EXPECT_FALSE(s.own_clean);
  EXPECT_EQ(schema::IndexedBody(s), "Thanks!\nBye\x7f");
  EXPECT_EQ(schema::IndexedBody(s), schema::IndexedBody(s.item));
  EXPECT_EQ(schema::BodyExcerpt(s, 100), schema::BodyExcerpt(s.item, 100));
  s.item.text = "Thanks!\n> quoted\nBye\n";
  schema::KeepOwnSpans(&s);
  EXPECT_TRUE(s.own_clean);
  // Spans past the end of the text (a damaged record): split again.
  s.own_spans.back().length += 100;
  EXPECT_EQ(schema::IndexedBody(s), "Thanks!\nBye");
}

}  // namespace
}  // namespace threadsearch
