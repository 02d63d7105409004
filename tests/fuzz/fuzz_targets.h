// Fuzz target bodies, shared by the libFuzzer binaries (TS_FUZZ=ON) and the
// regression test that replays the kept corpora and crashers in every build.
#ifndef THREADSEARCH_TESTS_FUZZ_FUZZ_TARGETS_H_
#define THREADSEARCH_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace threadsearch::fuzz {

// Runs one input through the target named `target`; returns false when the
// target does not exist. Crashes (or trips a sanitizer) on a bug.
bool RunTarget(const std::string& target, const uint8_t* data, size_t size);

// Every target name: one per input format ("mbox", "hn-json", "algolia",
// "bigquery", "pushshift", "thread-page", "auto"), "text" (mail and HTML
// helpers), "query" (the query language through Searcher::Search) and
// "hn-params" (the HN Search API's parameters as a query string and as
// Algolia's native JSON bodies, parsed and searched as the server does).
std::vector<std::string> TargetNames();

}  // namespace threadsearch::fuzz

#endif  // THREADSEARCH_TESTS_FUZZ_FUZZ_TARGETS_H_
