// Mail-specific text handling: charsets, RFC 2047 headers, transfer
// encodings, and splitting a body into the writer's own words and the rest.
#ifndef THREADSEARCH_COMMON_MAIL_TEXT_H_
#define THREADSEARCH_COMMON_MAIL_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"

namespace threadsearch {

// Converts bytes in `charset` (any name iconv knows; case-insensitive) to
// valid UTF-8. Text that names no charset, or only "us-ascii" or "utf-8"
// (a pipermail archive keeps no Content-Type), is read as ISO-2022-JP(-2)
// when it is 7-bit with ISO-2022 escapes, as KOI8-R or windows-1251 when
// it is mostly runs of Cyrillic letters in one of them, else as UTF-8.
// Unknown charsets and undecodable bytes fall back to windows-1252/latin-1
// per byte; the result is always valid UTF-8.
std::string CharsetToUtf8(std::string_view bytes, std::string_view charset);

// Decodes RFC 2047 encoded words (=?charset?B|Q?…?=) in a header value to
// UTF-8; adjacent encoded words separated only by whitespace are joined.
// Malformed words are left as they are; text outside encoded words is read
// as CharsetToUtf8 reads text without a charset. Result is valid UTF-8.
std::string DecodeRfc2047(std::string_view header);

// Content-Transfer-Encoding decoders; both tolerate bad input.
std::string DecodeQuotedPrintable(std::string_view s);
std::string DecodeBase64(std::string_view s);

// Removes OpenPGP clear-signing armor from a message body: the
// "-----BEGIN PGP SIGNED MESSAGE-----" line and its armor headers
// ("Hash: SHA1") up to the first blank line, the dash escaping ("- " before
// signed lines that start with '-'), and every "-----BEGIN PGP
// SIGNATURE-----" … "-----END PGP SIGNATURE-----" block. Quoted armor
// ("> -----BEGIN …") and a BEGIN line without its END are left alone; a
// body without armor is returned unchanged.
std::string StripPgpArmor(std::string_view body);

// A mail body split for indexing.
struct MailBodyParts {
  // What the writer wrote: no quoted lines ("> …", in a reply only; a
  // Python prompt ">>> " not next to a quote is kept), no attribution lines
  // ("On … wrote:", "X writes:"), no signature (after "-- "), no list footer
  // (the "_____ R-help at … mailing list" block and the like), no Mailman
  // "-------------- next part --------------" notes.
  std::string own;
  // The quoted lines with their "> " markers removed, joined by newlines.
  std::string quoted;
  // The split stopped at its `own_limit` before the end of the body.
  bool stopped = false;
};
// `is_reply`: the message answers another (In-Reply-To or References; an
// Item with a parent). A message that starts a thread has nothing to quote,
// so its lines starting with ">" (R console input, say) are its own text.
// `own_limit`: stop once `own` holds more than this many bytes, for an
// excerpt of a long message. Every line is still judged with the lines after
// it, so `own` is then a full split's `own` cut after a line (blank lines
// at its end trimmed), `quoted` holds only what came before, and `stopped`
// is set.
// `own_lines`, when given, receives where own's lines are in `body` (of
// less than 4 GiB), the spans of lines that follow each other merged:
// OwnFromSpans rebuilds own from them without judging a line again.
MailBodyParts SplitMailBody(std::string_view body, bool is_reply,
                            size_t own_limit = std::string::npos,
                            std::vector<TextSpan>* own_lines = nullptr);
// SplitMailBody(body, …).own from the `own_lines` it gave for that body;
// false when a span lies outside `body`.
bool OwnFromSpans(std::string_view body, const std::vector<TextSpan>& spans,
                  std::string* own);

// Turns a pipermail-obfuscated address back into an address:
// "user at domain" -> "user@domain"; the post-2018 mangled form
// "r@turner @ending from @uckl@nd@@c@nz" -> "r@turner@@uckl@nd@@c@nz"
// (" @ending from " and " m@iling off " read as the separator, mangled
// letters kept as they are). Lower-cased. Input without either form is
// returned trimmed and lower-cased.
std::string DeobfuscateAddress(std::string_view s);

}  // namespace threadsearch

#endif  // THREADSEARCH_COMMON_MAIL_TEXT_H_
