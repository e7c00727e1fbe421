// The downstream HTTP/1.1 server. Beast parses requests (with body and header limits); responses
// are framed by hand (fixed length, or chunked for SSE) so a stream can be written piecemeal.
// A connection keeps reading while a response is pending, which is how a client that goes away
// mid-stream is noticed; a request that arrives early waits until the previous one is answered.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <deque>
#include <optional>
#include <unordered_set>

#include "common/log.h"
#include "http/http.h"
#include "io/asio_loop.h"

namespace mcpgw::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string_view FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return h.value;
  }
  return {};
}

std::string_view Request::path() const {
  std::string_view t = target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query_param(std::string_view name) const {
  std::string_view t = target;
  size_t q = t.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = t.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

namespace {

class ServerImpl;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerImpl* server, const ServerOptions& opts)
      : stream_(std::move(socket)),
        idle_timer_(stream_.get_executor()),
        server_(server),
        opts_(opts) {
    boost::system::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ip_ = ep.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  void Start() { ReadRequest(); }
  void Close();

  // Called by the responder.
  void SendRaw(std::string data) {
    if (closed_) return;
    write_queue_.push_back(std::move(data));
    if (write_queue_.size() == 1) WriteNext();
  }
  void ResponseDone(bool keep_alive);
  bool closed() const { return closed_; }
  void AddCloseCallback(std::function<void()> cb) { close_callbacks_.push_back(std::move(cb)); }

 private:
  void ReadRequest();
  void OnRead(beast::error_code ec);
  // After an error answer sent mid-request (413, 431, 400): stop sending, read and discard what
  // the client is still sending for a short while, then close. Closing at once would reset the
  // connection and the client might never see the answer.
  void LingerClose();
  void Drain(size_t budget);
  void Dispatch(Request req, bool keep_alive);
  void SendErrorAndClose(int status, std::string_view message);
  void WriteNext();

  beast::tcp_stream stream_;
  // Closes a kept-alive connection that stays idle after a response, when a read was already
  // pending (tcp_stream's own expiry only applies to reads started after it is set).
  asio::steady_timer idle_timer_;
  ServerImpl* server_;
  const ServerOptions& opts_;
  std::string remote_ip_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool reading_ = false;
  bool response_pending_ = false;
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  std::optional<std::pair<Request, bool>> queued_;  // next request, held until the current ends
  std::deque<std::string> write_queue_;
  std::vector<std::function<void()>> close_callbacks_;
  bool closed_ = false;
};

class ResponderImpl : public Responder {
 public:
  ResponderImpl(std::shared_ptr<Connection> conn, bool keep_alive, bool head_only)
      : conn_(std::move(conn)), keep_alive_(keep_alive), head_only_(head_only) {}

  ~ResponderImpl() override {
    // Nobody answered: never leave a client hanging.
    if (!done_ && !conn_->closed()) {
      if (!started_) {
        Send(500, {{"content-type", "application/json"}}, R"({"error":"no response"})");
      } else {
        End();
      }
    }
  }

  void Send(int status, Headers headers, std::string body) override {
    if (done_ || started_) return;
    done_ = true;
    if (conn_->closed()) return;
    std::string out = Head(status, headers);
    out += "content-length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (!head_only_) out += body;
    conn_->SendRaw(std::move(out));
    conn_->ResponseDone(keep_alive_);
  }

  void StartStream(int status, Headers headers) override {
    if (done_ || started_) return;
    started_ = true;
    if (conn_->closed()) return;
    std::string out = Head(status, headers);
    out += "transfer-encoding: chunked\r\n\r\n";
    conn_->SendRaw(std::move(out));
  }

  bool Write(std::string_view chunk) override {
    if (!started_ || done_ || conn_->closed()) return false;
    if (chunk.empty()) return true;
    char size[20];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    std::string out;
    out.reserve(chunk.size() + static_cast<size_t>(n) + 2);
    out.append(size, static_cast<size_t>(n));
    out.append(chunk);
    out += "\r\n";
    conn_->SendRaw(std::move(out));
    return true;
  }

  void End() override {
    if (!started_ || done_) return;
    done_ = true;
    if (conn_->closed()) return;
    conn_->SendRaw("0\r\n\r\n");
    conn_->ResponseDone(keep_alive_);
  }

  bool Closed() const override { return done_ || conn_->closed(); }
  bool Started() const override { return started_ || done_; }

  void OnClose(std::function<void()> cb) override {
    if (done_) return;
    std::weak_ptr<bool> alive = alive_;
    conn_->AddCloseCallback([alive, cb = std::move(cb)] {
      if (!alive.expired()) cb();
    });
  }

 private:
  std::string Head(int status, const Headers& headers) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
    out += StatusText(status);
    out += "\r\n";
    for (const auto& h : headers) {
      out += h.name;
      out += ": ";
      out += h.value;
      out += "\r\n";
    }
    if (!keep_alive_) out += "connection: close\r\n";
    return out;
  }

  std::shared_ptr<Connection> conn_;
  bool keep_alive_;
  bool head_only_;
  bool started_ = false;
  bool done_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class ServerImpl : public Server {
 public:
  ServerImpl(io::Loop& loop, ServerOptions opts, Handler handler)
      : ctx_(io::IoContextOf(loop)),
        acceptor_(ctx_),
        opts_(std::move(opts)),
        handler_(std::move(handler)) {}

  ~ServerImpl() override { Stop(); }

  Result<int> Listen() override {
    boost::system::error_code ec;
    std::string host = opts_.host == "localhost" ? "127.0.0.1" : opts_.host;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) return MakeError("cannot listen on '" + opts_.host + "': not an IP address");
    tcp::endpoint ep(addr, static_cast<unsigned short>(opts_.port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return MakeError("cannot listen on " + opts_.host + ":" + std::to_string(opts_.port) + ": " +
                       ec.message());
    }
    Accept();
    return static_cast<int>(acceptor_.local_endpoint().port());
  }

  void Stop() override {
    boost::system::error_code ec;
    acceptor_.close(ec);
    auto conns = connections_;
    for (auto* c : conns) c->Close();
    connections_.clear();
  }

  size_t ConnectionCount() const override { return connections_.size(); }

  void Remove(Connection* c) { connections_.erase(c); }
  void Handle(Request&& req, std::shared_ptr<Responder> r) {
    handler_(std::move(req), std::move(r));
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto conn = std::make_shared<Connection>(std::move(socket), this, opts_);
        connections_.insert(conn.get());
        conn->Start();
      } else {
        log::Warn("accept failed", {{"error", ec.message()}});
      }
      if (acceptor_.is_open()) Accept();
    });
  }

  asio::io_context& ctx_;
  tcp::acceptor acceptor_;
  ServerOptions opts_;
  Handler handler_;
  std::unordered_set<Connection*> connections_;
};

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  server_->Remove(this);
  idle_timer_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  auto callbacks = std::move(close_callbacks_);
  for (auto& cb : callbacks) cb();
}

void Connection::ReadRequest() {
  if (closed_ || reading_ || queued_) return;
  reading_ = true;
  parser_.emplace();
  parser_->body_limit(opts_.max_body_bytes);
  parser_->header_limit(static_cast<uint32_t>(opts_.max_header_bytes));
  // Idle keep-alive connections and slow senders time out; a pending response (SSE) does not.
  if (response_pending_) {
    stream_.expires_never();
  } else {
    stream_.expires_after(opts_.idle_timeout);
  }
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void Connection::OnRead(beast::error_code ec) {
  reading_ = false;
  if (closed_) return;
  idle_timer_.cancel();
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      SendErrorAndClose(413, "request body exceeds the limit of " +
                                 std::to_string(opts_.max_body_bytes) + " bytes");
    } else if (ec == bhttp::error::header_limit) {
      SendErrorAndClose(431, "request headers exceed the limit");
    } else if (parser_->got_some() && ec != beast::error::timeout &&
               ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
      SendErrorAndClose(400, "malformed HTTP request");
    } else {
      Close();  // the client closed, reset or idled out between requests
    }
    return;
  }
  auto msg = parser_->release();
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote_ip = remote_ip_;
  req.headers.reserve(8);
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.push_back({std::move(name), std::string(f.value())});
  }
  req.body = std::move(msg.body());
  bool keep_alive = msg.keep_alive();
  if (response_pending_) {
    queued_.emplace(std::move(req), keep_alive);  // wait for the current response; stop reading
    return;
  }
  Dispatch(std::move(req), keep_alive);
}

void Connection::Dispatch(Request req, bool keep_alive) {
  response_pending_ = true;
  keep_alive_ = keep_alive;
  bool head_only = req.method == "HEAD";
  auto responder = std::make_shared<ResponderImpl>(shared_from_this(), keep_alive, head_only);
  server_->Handle(std::move(req), std::move(responder));
  // Keep reading: notices a client that goes away while the answer is pending.
  if (!closed_ && keep_alive_) ReadRequest();
}

void Connection::ResponseDone(bool keep_alive) {
  response_pending_ = false;
  if (!keep_alive) {
    close_after_write_ = true;
    if (write_queue_.empty()) Close();
    return;
  }
  close_callbacks_.clear();
  if (queued_) {
    auto next = std::move(*queued_);
    queued_.reset();
    Dispatch(std::move(next.first), next.second);
  } else if (!reading_) {
    ReadRequest();
  } else {
    idle_timer_.expires_after(opts_.idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->response_pending_ && !self->closed_) self->Close();
    });
  }
}

void Connection::SendErrorAndClose(int status, std::string_view message) {
  std::string body = R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":")";
  log::AppendJsonEscaped(body, message);
  body += "\"}}";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(StatusText(status)) +
                    "\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  response_pending_ = false;
  close_after_write_ = true;
  SendRaw(std::move(out));
}

void Connection::LingerClose() {
  if (closed_) return;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  idle_timer_.expires_after(std::chrono::seconds(2));
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->Close();
  });
  if (!reading_) Drain(8u << 20);
}

void Connection::Drain(size_t budget) {
  auto self = shared_from_this();
  auto buf = std::make_shared<std::array<char, 16384>>();
  stream_.socket().async_read_some(asio::buffer(*buf),
                                   [self, buf, budget](beast::error_code ec, size_t n) {
                                     if (self->closed_) return;
                                     if (ec || n >= budget) return self->Close();
                                     self->Drain(budget - n);
                                   });
}

void Connection::WriteNext() {
  auto self = shared_from_this();
  asio::async_write(stream_.socket(), asio::buffer(write_queue_.front()),
                    [self](beast::error_code ec, size_t) {
                      if (self->closed_) return;
                      self->write_queue_.pop_front();
                      if (ec) {
                        self->Close();
                        return;
                      }
                      if (!self->write_queue_.empty()) {
                        self->WriteNext();
                      } else if (self->close_after_write_) {
                        self->LingerClose();
                      }
                    });
}

}  // namespace

std::unique_ptr<Server> NewServer(io::Loop& loop, ServerOptions options, Handler handler) {
  return std::make_unique<ServerImpl>(loop, std::move(options), std::move(handler));
}

}  // namespace mcpgw::http
