#include "worker/connection_probe.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace actsearch::worker {
namespace {

// A client's HTTP/2 connection preface and an empty SETTINGS frame: a gRPC server without TLS
// answers with a SETTINGS frame of its own (type 4, the frame header's fourth byte).
constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
constexpr size_t kPrefaceSize = sizeof kPreface - 1;
constexpr unsigned char kSettingsFrame = 4;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

bool WaitFor(int fd, short events, int milliseconds) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, milliseconds) == 1 && (p.revents & (events | POLLHUP)) != 0;
}

}  // namespace

ControllerSpeaks ProbeController(const std::string& address, double timeout_seconds) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return ControllerSpeaks::kUnknown;
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0)
    return ControllerSpeaks::kUnknown;
  const int milliseconds = static_cast<int>(1000 * timeout_seconds);
  ControllerSpeaks speaks = ControllerSpeaks::kUnknown;
  for (addrinfo* a = found; a != nullptr && speaks == ControllerSpeaks::kUnknown; a = a->ai_next) {
    Socket socket(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol));
    if (socket.fd() < 0) continue;
    if (connect(socket.fd(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) continue;
    int error = 0;
    socklen_t length = sizeof error;
    if (!WaitFor(socket.fd(), POLLOUT, milliseconds) ||
        getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      continue;
    }
    if (send(socket.fd(), kPreface, kPrefaceSize, MSG_NOSIGNAL) !=
        static_cast<ssize_t>(kPrefaceSize)) {
      continue;
    }
    unsigned char header[9];
    size_t got = 0;
    while (got < sizeof header && WaitFor(socket.fd(), POLLIN, milliseconds)) {
      const ssize_t n = recv(socket.fd(), header + got, sizeof header - got, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got == sizeof header && header[3] == kSettingsFrame) {
      speaks = ControllerSpeaks::kPlaintextGrpc;
    } else if (got < sizeof header) {
      speaks = ControllerSpeaks::kSomethingElse;  // closed on us (or said too little)
    }
  }
  freeaddrinfo(found);
  return speaks;
}

std::string DiagnoseConnection(const std::string& address, const std::string& tls_ca_file,
                               ControllerSpeaks speaks) {
  const bool tls = !tls_ca_file.empty();
  if (speaks == ControllerSpeaks::kPlaintextGrpc && tls) {
    return address +
           " serves without TLS: drop --tls-ca, or start the controller with "
           "--tls-cert and --tls-key";
  }
  if (speaks == ControllerSpeaks::kSomethingElse && !tls) {
    return address +
           " does not speak plaintext gRPC (it serves TLS?): give --tls-ca with the "
           "CA that signed the controller's certificate";
  }
  if (speaks == ControllerSpeaks::kSomethingElse && tls) {
    return "the TLS handshake with " + address +
           " failed: its certificate does not verify "
           "against " +
           tls_ca_file +
           " (another CA, or a certificate that does not name the "
           "host dialled)";
  }
  return "";
}

}  // namespace actsearch::worker
