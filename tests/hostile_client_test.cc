// The server under hostile clients over raw sockets: malformed request
// lines, header floods, slow clients. No crash, no hang, and other clients
// are still served.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/server_fixture.h"

namespace threadsearch {
namespace {

class HostileClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ASSERT_TRUE(IndexInto(tmp_->Sub("db"),
                          {std::string(TS_CORPUS) + "/reddit"}));
    server_ = new TestServer(tmp_->Sub("db"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tmp_;
  }

  // Connects, sends `request` (in pieces of `chunk` bytes), and returns
  // what the server answered before closing (at most `wait_s` seconds).
  static std::string Raw(const std::string& request, int wait_s = 10) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{wait_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = send(fd, request.data() + sent, request.size() - sent,
                       MSG_NOSIGNAL);
      if (n <= 0) break;  // the server may close on us mid-flood
      sent += static_cast<size_t>(n);
    }
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
      out.append(buf, static_cast<size_t>(n));
      if (Complete(out)) break;  // keep-alive: the server would wait on us
    }
    close(fd);
    return out;
  }

  // A whole response: headers and Content-Length bytes of body.
  static bool Complete(const std::string& r) {
    size_t end = r.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    size_t cl = r.find("Content-Length: ");
    if (cl == std::string::npos || cl > end) return true;
    size_t len = std::stoul(r.substr(cl + 16));
    return r.size() >= end + 4 + len;
  }

  static bool StillServing() {
    auto c = server_->client();
    auto r = c->Get("/healthz");
    return r && r->status == 200;
  }

  static TempDir* tmp_;
  static TestServer* server_;
};
TempDir* HostileClientTest::tmp_ = nullptr;
TestServer* HostileClientTest::server_ = nullptr;

int StatusOf(const std::string& response) {
  // "HTTP/1.1 400 Bad Request"
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return -1;
  return std::stoi(response.substr(9, 3));
}

TEST_F(HostileClientTest, MalformedRequestLinesGet400) {
  const std::string close = "Host: x\r\nConnection: close\r\n\r\n";
  for (const std::string& req :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET /api/search?q=x HTTP/9.9\r\n\r\n"),
        std::string("\x01\x02\x03\xff\xfe\r\n\r\n", 9),
        "GET /../../etc/passwd HTTP/1.1\r\n" + close,
        "GET /api/items/%00%ff HTTP/1.1\r\n" + close,
        "POST /api/search HTTP/1.1\r\nContent-Length: 99999999999\r\n" +
            close}) {
    std::string resp = Raw(req);
    int status = StatusOf(resp);
    EXPECT_TRUE(resp.empty() || (status >= 400 && status < 500))
        << ::testing::PrintToString(req) << " -> " << resp.substr(0, 80);
    EXPECT_TRUE(StillServing());
  }
  // A bad percent escape is read as text (lenient, like most servers): a
  // normal answer, not an error.
  std::string resp = Raw("GET /api/search?q=%zz HTTP/1.1\r\n" + close);
  EXPECT_EQ(StatusOf(resp), 200) << resp.substr(0, 80);
}

TEST_F(HostileClientTest, HeaderFloodIsRefusedWithoutHarm) {
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 20000; ++i) {
    req += "X-Flood-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
  }
  req += "\r\n";
  std::string resp = Raw(req);
  int status = StatusOf(resp);
  // Either refused (4xx) or answered normally; never a crash or a hang.
  EXPECT_TRUE(resp.empty() || status == 200 || (status >= 400 && status < 500))
      << resp.substr(0, 80);
  std::string long_line = "GET /healthz HTTP/1.1\r\nX-Long: " +
                          std::string(1 << 20, 'b') + "\r\n\r\n";
  resp = Raw(long_line);
  status = StatusOf(resp);
  EXPECT_TRUE(resp.empty() || (status >= 400 && status < 500))
      << resp.substr(0, 80);
  EXPECT_TRUE(StillServing());
}

TEST_F(HostileClientTest, SlowClientsDoNotBlockOthers) {
  // Several clients that connect and send half a request, then stall.
  std::vector<std::thread> slow;
  for (int i = 0; i < 3; ++i) {
    slow.emplace_back([] { Raw("GET /api/search?q=wood", 8); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(StillServing());
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  EXPECT_LT(ms, 3000) << "a normal request waited on stalled clients";
  for (std::thread& t : slow) t.join();  // the server timed them out
  EXPECT_TRUE(StillServing());
}

}  // namespace
}  // namespace threadsearch
