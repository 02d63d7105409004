// The `threadsearch` command line: CLI11 subcommands that fill option structs
// and call the libraries. Output formatting lives in text_output/json_codec.
#ifndef THREADSEARCH_SERVER_CLI_H_
#define THREADSEARCH_SERVER_CLI_H_

namespace threadsearch {

// Runs the program. Returns the exit code: 0 success, 1 failure, 2 usage.
int RunCli(int argc, char** argv);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_CLI_H_
