// A small HTTP/1.1 server for the dashboard and the controller's metrics, on Boost.Beast:
// GET requests only, each answered by one handler function, keep-alive, per-connection
// timeouts, bodies refused. An optional token is required as `Authorization: Bearer T` or
// `?token=T`; without it a request gets 401, except on the paths the options make public.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace actsearch::dashboard {

struct HttpRequest {
  std::string path;                          // decoded, without the query
  std::map<std::string, std::string> query;  // decoded parameters; the last of a repeated one
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// An answer with status and message: a JSON {"error": message}.
HttpResponse ErrorResponse(int status, const std::string& message);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  std::string token;                      // empty: no token needed
  int threads = 2;
  // Paths served without the token (pages, scripts: a browser cannot add a header to a
  // <script src>); data stays behind it. Null: every path needs it.
  std::function<bool(const std::string& path)> public_path;
};

class HttpServer {
 public:
  // Binds the address (throws std::runtime_error naming it if it cannot).
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Serves until `stop` becomes true (checked a few times a second) or Stop() is called.
  void Run(const std::atomic<bool>& stop);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits a request target into its decoded path and query parameters. False for a target
// that is not a path or has a malformed %-escape.
bool ParseTarget(const std::string& target, HttpRequest* request);

}  // namespace actsearch::dashboard
