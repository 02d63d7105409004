// The socket options of a listening server socket, shared by `serve` and
// `shard-serve`.
#ifndef THREADSEARCH_SERVER_LISTEN_SOCKET_H_
#define THREADSEARCH_SERVER_LISTEN_SOCKET_H_

#include <sys/socket.h>

namespace threadsearch {

// SO_REUSEADDR alone, for httplib::Server::set_socket_options: a restart
// binds at once past the old connections' TIME_WAIT. httplib's default
// also sets SO_REUSEPORT, which let a second server bind a port another
// one serves: both then answered, each a share of the connections, with
// no error to say so.
inline void ListenSocketOptions(int sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace threadsearch

#endif  // THREADSEARCH_SERVER_LISTEN_SOCKET_H_
