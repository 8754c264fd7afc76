#include "cli/serving.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "cli/usage_error.h"

namespace actsearch::cli {

std::atomic<bool> g_stop_signal{false};

namespace {

extern "C" void RecordStopSignal(int) { g_stop_signal = true; }

}  // namespace

void CatchStopSignals() {
  struct sigaction action = {};
  action.sa_handler = RecordStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

namespace {

// A token travels as gRPC metadata (`authorization: Bearer <token>`), which takes printable
// ASCII only: anything else would make gRPC abort the call, so it is refused at start-up.
std::string CheckedToken(std::string token, const std::string& source) {
  const size_t end = token.find_last_not_of(" \t\r\n");
  token.erase(end == std::string::npos ? 0 : end + 1);  // an editor's line ending
  token.erase(0, token.find_first_not_of(" \t"));
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c < 0x21 || c > 0x7e) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02x", c);
      throw UsageError(source + ": the token holds byte " + byte + " at position " +
                       std::to_string(i + 1) +
                       "; a token is printable ASCII without spaces (openssl rand -hex 32)");
    }
  }
  return token;
}

}  // namespace

// gRPC takes any file as a PEM without complaint, and then fails every connection as if the
// network were down: a file without the expected block is refused here.
void CheckPemFile(const std::string& path, const std::string& flag, const std::string& block) {
  std::ifstream in(path);
  if (!in) throw UsageError(flag + ": " + path + ": cannot read: " + std::strerror(errno));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find(block + "-----") == std::string::npos) {
    throw UsageError(flag + ": " + path + ": not PEM (no '" + block + "-----' line)");
  }
}

// The shared token: the first line of --token-file, else $ACTSEARCH_TOKEN, else none.
std::string ReadToken(const std::string& token_file) {
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) throw UsageError(token_file + ": cannot read the token file");
    std::string token;
    std::getline(in, token);
    token = CheckedToken(token, token_file);
    if (token.empty()) throw UsageError(token_file + ": the token file is empty");
    return token;
  }
  const char* from_environment = std::getenv(kTokenVariable);
  return from_environment ? CheckedToken(from_environment, "$" + std::string(kTokenVariable)) : "";
}

// --listen as HOST:PORT or [IPV6]:PORT; throws UsageError for a malformed address or a port
// outside 0..65535 (gRPC would otherwise map 99999 to some other port). True for a loopback
// host, parsed rather than matched as text ("127.0.0.1.example.com" is not loopback).
bool IsLoopbackListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw UsageError("--listen: got " + address + ", must be HOST:PORT or [IPV6]:PORT");
  }
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    throw UsageError("--listen: port '" + port + "' must be a number from 0 to 65535");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    in6_addr v6{};
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "localhost";
}

}  // namespace actsearch::cli
