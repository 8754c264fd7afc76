#include "dashboard/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace actsearch::dashboard {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kMaxHeaderBytes = 16 * 1024;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and, in a query, '+' as a space. False for a malformed escape.
bool Decode(const std::string& text, bool plus_is_space, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return false;
      const int high = HexDigit(text[i + 1]), low = HexDigit(text[i + 2]);
      if (high < 0 || low < 0) return false;
      out->push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out->push_back(' ');
    } else {
      out->push_back(text[i]);
    }
  }
  return true;
}

tcp::endpoint ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("cannot listen on " + listen);
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code error;
  const asio::ip::address address = asio::ip::make_address(host, error);
  if (error) throw std::runtime_error("cannot listen on " + listen + ": not an IP address");
  return {address, static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))};
}

bool TokenAccepted(const http::request<http::empty_body>& request, const HttpRequest& parsed,
                   const std::string& token) {
  if (token.empty()) return true;
  const auto header = request.find(http::field::authorization);
  if (header != request.end() && header->value() == "Bearer " + token) return true;
  const auto query = parsed.query.find("token");
  return query != parsed.query.end() && query->second == token;
}

}  // namespace

HttpResponse ErrorResponse(int status, const std::string& message) {
  return {status, "application/json", nlohmann::json{{"error", message}}.dump()};
}

bool ParseTarget(const std::string& target, HttpRequest* request) {
  if (target.empty() || target.front() != '/') return false;
  const size_t question = target.find('?');
  if (!Decode(target.substr(0, question), false, &request->path)) return false;
  request->query.clear();
  if (question == std::string::npos) return true;
  const std::string query = target.substr(question + 1);
  size_t start = 0;
  while (start <= query.size()) {
    const size_t end = std::min(query.find('&', start), query.size());
    const std::string pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t equals = pair.find('=');
      std::string key, value;
      if (!Decode(pair.substr(0, equals), true, &key)) return false;
      if (equals != std::string::npos && !Decode(pair.substr(equals + 1), true, &value)) {
        return false;
      }
      request->query[key] = value;
    }
    start = end + 1;
  }
  return true;
}

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};

  // One connection: read a request, answer it, again while the client keeps it alive.
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(tcp::socket socket, Impl& server) : stream_(std::move(socket)), server_(server) {}
    void Start() { Read(); }

   private:
    void Read() {
      parser_.emplace();
      parser_->header_limit(kMaxHeaderBytes);
      stream_.expires_after(kIdleTimeout);
      http::async_read(stream_, buffer_, *parser_,
                       [self = shared_from_this()](beast::error_code error, size_t) {
                         if (!error) self->Answer();
                       });
    }

    void Answer() {
      const http::request<http::empty_body>& request = parser_->get();
      HttpRequest parsed;
      HttpResponse answer;
      if (request.method() != http::verb::get && request.method() != http::verb::head) {
        answer = ErrorResponse(405, "only GET is served");
      } else if (!ParseTarget(std::string(request.target()), &parsed)) {
        answer = ErrorResponse(400, "malformed request target");
      } else if (!(server_.options.public_path && server_.options.public_path(parsed.path)) &&
                 !TokenAccepted(request, parsed, server_.options.token)) {
        answer = ErrorResponse(401, "missing or wrong token (Authorization: Bearer <token>)");
      } else {
        try {
          answer = server_.handler(parsed);
        } catch (const std::exception& error) {
          answer = ErrorResponse(500, error.what());
        }
      }
      auto response = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(answer.status), request.version());
      response->set(http::field::server, "actsearch");
      response->set(http::field::content_type, answer.content_type);
      response->set(http::field::cache_control, "no-store");
      response->set("X-Content-Type-Options", "nosniff");
      // The pages run only their own scripts: data shown as markup could not execute.
      response->set("Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
      if (answer.status == 405) response->set(http::field::allow, "GET, HEAD");
      response->keep_alive(request.keep_alive());
      if (request.method() != http::verb::head) response->body() = std::move(answer.body);
      response->prepare_payload();
      http::async_write(stream_, *response,
                        [self = shared_from_this(), response](beast::error_code error, size_t) {
                          if (error) return;
                          if (response->keep_alive()) {
                            self->Read();
                          } else {
                            beast::error_code ignored;
                            self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          }
                        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    Impl& server_;
  };

  void Accept() {
    acceptor.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (!error) std::make_shared<Session>(std::move(socket), *this)->Start();
      Accept();
    });
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  const tcp::endpoint endpoint = ParseListen(impl_->options.listen);
  beast::error_code error;
  impl_->acceptor.open(endpoint.protocol(), error);
  if (!error) impl_->acceptor.bind(endpoint, error);
  if (!error) impl_->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    throw std::runtime_error("cannot listen on " + impl_->options.listen + ": " + error.message());
  }
}

HttpServer::~HttpServer() = default;

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Run(const std::atomic<bool>& stop) {
  impl_->Accept();
  asio::steady_timer poll(impl_->io);
  std::function<void(beast::error_code)> check = [&](beast::error_code) {
    if (stop) {
      Stop();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(200));
    poll.async_wait(check);
  };
  check({});
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->options.threads; ++i)
    threads.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (std::thread& t : threads) t.join();
}

void HttpServer::Stop() {
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
}

}  // namespace actsearch::dashboard
