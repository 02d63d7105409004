#include "server/serve_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace threadsearch {

void RegisterServeCommand(CLI::App& app, int* rc) {
  CLI::App* serve = app.add_subcommand("serve", "Serve the HTTP API (not yet)");
  serve->callback([rc] {
    std::cerr << "threadsearch: serve is not implemented yet\n";
    *rc = 1;
  });
}

}  // namespace threadsearch
