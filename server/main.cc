// threadsearch: full-text search over discussion threads.
#include <csignal>
#include <exception>
#include <iostream>

#include "server/cli.h"

int main(int argc, char** argv) {
  // A peer that goes away (an HTTP client, a remote shard) must be an error
  // on that connection, not the end of the process: neither cpp-httplib
  // nor Xapian's remote backend writes with MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return threadsearch::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "threadsearch: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "threadsearch: internal error\n";
  }
  return 1;
}
