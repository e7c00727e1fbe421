// HTTP for the gateway, without Beast or Asio in the header: the server hands each request to a
// Handler with a Responder that can answer once or stream (SSE, chunked); the client sends
// requests to upstream MCP servers over kept-alive connections and streams the body back.
// All callbacks run on the io::Loop thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "io/loop.h"

namespace mcpgw::http {

struct Header {
  std::string name;  // lowercase on requests the server parsed and responses the client parsed
  std::string value;
};
using Headers = std::vector<Header>;

// First value of a header (name in lowercase), or empty.
std::string_view FindHeader(const Headers& headers, std::string_view lowercase_name);

struct Request {
  std::string method;
  std::string target;  // path + query as sent
  Headers headers;
  std::string body;
  std::string remote_ip;

  std::string_view header(std::string_view lowercase_name) const {
    return FindHeader(headers, lowercase_name);
  }
  std::string_view path() const;
  // Value of a query parameter (not percent-decoded), or empty.
  std::string_view query_param(std::string_view name) const;
};

// Answers one request. Exactly one of Send() or StartStream()+...+End() is used.
// Held by shared_ptr: whoever will answer later keeps it. Thread-affine to the loop.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(int status, Headers headers, std::string body) = 0;
  virtual void StartStream(int status, Headers headers) = 0;
  // Writes one chunk of a started stream. Returns false when the client is gone.
  virtual bool Write(std::string_view chunk) = 0;
  virtual void End() = 0;
  // True once the response is complete or the client disconnected.
  virtual bool Closed() const = 0;
  virtual bool Started() const = 0;
  // Runs once if the client disconnects before the response completes.
  virtual void OnClose(std::function<void()> cb) = 0;
};

using Handler = std::function<void(Request&&, std::shared_ptr<Responder>)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t max_body_bytes = 4 << 20;
  size_t max_header_bytes = 16 << 10;
  io::Millis idle_timeout{60000};  // keep-alive connections with nothing pending
};

class Server {
 public:
  virtual ~Server() = default;
  // Binds and starts accepting. Returns the bound port (useful with port 0).
  virtual Result<int> Listen() = 0;
  // Stops accepting and closes every connection.
  virtual void Stop() = 0;
  virtual size_t ConnectionCount() const = 0;
};

std::unique_ptr<Server> NewServer(io::Loop& loop, ServerOptions options, Handler handler);

// ---- client ----

struct ClientResponseHead {
  int status = 0;
  Headers headers;  // lowercase names
};

struct ClientCallbacks {
  // Once, when the status line and headers arrived.
  std::function<void(const ClientResponseHead&)> on_head;
  // Zero or more times with body bytes as they arrive.
  std::function<void(std::string_view)> on_body;
  // Once at the end: ok, or the error (connect failure, reset, timeout, bad response).
  std::function<void(Status)> on_done;
};

// Cancels an in-flight client request (its on_done gets an error) when destroyed or Cancel()ed.
class ClientCall {
 public:
  virtual ~ClientCall() = default;
  virtual void Cancel() = 0;
};

class Client {
 public:
  virtual ~Client() = default;
  // url: http://host:port/path. `timeout` bounds the time to the response head (0 = none); a
  // streaming body may then last as long as the server keeps it open.
  virtual std::shared_ptr<ClientCall> Send(std::string method, const std::string& url,
                                           Headers headers, std::string body, io::Millis timeout,
                                           ClientCallbacks callbacks) = 0;
};

std::unique_ptr<Client> NewClient(io::Loop& loop);

// Parsed http://host:port/path (https is recognized but not supported by the client yet).
struct Url {
  bool https = false;
  std::string host;
  int port = 80;
  std::string target = "/";
};
Result<Url> ParseUrl(std::string_view url);

std::string_view StatusText(int status);

}  // namespace mcpgw::http
