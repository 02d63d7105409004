// The `follow` subcommand (`threadsearch follow hn …`): keeps a database
// current from a live source. Registered by the CLI; the work is
// FollowHn (indexer/hn_follower.h).
#ifndef THREADSEARCH_SERVER_FOLLOW_COMMAND_H_
#define THREADSEARCH_SERVER_FOLLOW_COMMAND_H_

namespace CLI {
class App;
}

namespace threadsearch {

// Adds `follow` (with its `hn` subcommand) to `app`; when it runs, its exit
// code goes to *rc: 0 when done or stopped by SIGINT/SIGTERM, 1 on failure,
// 2 on a usage error.
void RegisterFollowCommand(CLI::App& app, int* rc);

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_FOLLOW_COMMAND_H_
