// The `serve` subcommand: registered by the CLI, implemented beside the HTTP
// server.
#ifndef THREADSEARCH_SERVER_SERVE_COMMAND_H_
#define THREADSEARCH_SERVER_SERVE_COMMAND_H_

namespace CLI {
class App;
}

namespace threadsearch {

// Adds `serve` to `app`; when it runs, its exit code goes to *rc.
void RegisterServeCommand(CLI::App& app, int* rc);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_SERVE_COMMAND_H_
