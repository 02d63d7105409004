// threadsearch: full-text search over discussion threads.
#include <exception>
#include <iostream>

#include "server/cli.h"

int main(int argc, char** argv) {
  try {
    return threadsearch::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "threadsearch: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "threadsearch: internal error\n";
  }
  return 1;
}
