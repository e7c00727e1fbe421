// HTTP/1.1 client for Streamable HTTP upstreams: kept-alive connections per host:port, request
// bodies written whole, response bodies streamed to the caller as they arrive (SSE). A request
// that fails on a reused connection before any response byte is retried once on a fresh one.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <map>

#include "common/log.h"
#include "http/http.h"
#include "io/asio_loop.h"

namespace mcpgw::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Result<Url> ParseUrl(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    u.https = true;
    u.port = 443;
  } else {
    return MakeError("URL must start with http:// or https://: " + std::string(url));
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos)
      return MakeError("bad IPv6 host in URL: " + std::string(url));
    u.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    if (!hostport.empty() && hostport.front() == ':') {
      u.port = std::atoi(std::string(hostport.substr(1)).c_str());
    }
  } else {
    size_t colon = hostport.rfind(':');
    u.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos)
      u.port = std::atoi(std::string(hostport.substr(colon + 1)).c_str());
  }
  if (u.host.empty() || u.port <= 0 || u.port > 65535)
    return MakeError("bad host or port in URL: " + std::string(url));
  return u;
}

namespace {

class ClientImpl;

struct Conn {
  explicit Conn(asio::io_context& ctx) : stream(ctx) {}
  beast::tcp_stream stream;
  // https: TLS over `stream` (timeouts still come from the tcp_stream underneath).
  std::unique_ptr<asio::ssl::stream<beast::tcp_stream&>> tls;
  beast::flat_buffer buffer;
  bool reused = false;
};

// Runs `f` with the stream a request is read from and written to: TLS or plain TCP.
template <class F>
void WithStream(Conn& c, F&& f) {
  if (c.tls) {
    f(*c.tls);
  } else {
    f(c.stream);
  }
}

class CallImpl : public ClientCall, public std::enable_shared_from_this<CallImpl> {
 public:
  CallImpl(ClientImpl* client, asio::io_context& ctx, Url url, std::string wire, io::Millis timeout,
           ClientCallbacks cb)
      : client_(client),
        ctx_(ctx),
        url_(std::move(url)),
        wire_(std::move(wire)),
        timeout_(timeout),
        cb_(std::move(cb)) {}

  void Start();
  void Cancel() override {
    if (finished_) return;
    finished_ = true;
    cb_ = {};
    resolver_.cancel();
    // The connection is closed but not freed: the aborted operation still reads into its buffer
    // when its handler runs, and that handler holds this call (shared_from_this), so the
    // connection goes with the call once the handler is done (AddressSanitizer: freed here, it
    // was used after free when the gateway stopped with a request in flight).
    if (conn_) {
      beast::error_code ec;
      conn_->stream.socket().close(ec);
    }
  }

 private:
  void Connect();
  void Handshake();
  void WriteRequest();
  void ReadHead();
  void ReadBody();
  void Fail(const std::string& what, bool retryable);
  void Finish();

  ClientImpl* client_;
  asio::io_context& ctx_;
  Url url_;
  std::string wire_;
  io::Millis timeout_;
  ClientCallbacks cb_;
  std::unique_ptr<Conn> conn_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  char body_buf_[16384];
  bool got_response_bytes_ = false;
  bool retried_ = false;
  bool finished_ = false;
  tcp::resolver resolver_{ctx_};
};

class ClientImpl : public Client {
 public:
  explicit ClientImpl(io::Loop& loop)
      : ctx_(io::IoContextOf(loop)), tls_ctx_(asio::ssl::context::tls_client) {
    // The system trust store (SSL_CERT_FILE / SSL_CERT_DIR override it, as everywhere with
    // OpenSSL); peers are always verified, TLS 1.2 at least.
    boost::system::error_code ec;
    tls_ctx_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1,
                         ec);
    if (!ec) tls_ctx_.set_default_verify_paths(ec);
    if (!ec) tls_ctx_.set_verify_mode(asio::ssl::verify_peer, ec);
    tls_ready_ = !ec;
    if (ec) tls_error_ = "TLS set-up failed: " + ec.message();
  }

  asio::ssl::context& tls_context() { return tls_ctx_; }

  std::shared_ptr<ClientCall> Send(std::string method, const std::string& url, Headers headers,
                                   std::string body, io::Millis timeout,
                                   ClientCallbacks cb) override {
    auto parsed = ParseUrl(url);
    if (!parsed.ok() || (parsed->https && !tls_ready_)) {
      std::string err =
          parsed.ok() ? "https is unavailable: " + tls_error_ : parsed.error().message;
      auto done = std::move(cb.on_done);
      asio::post(ctx_, [done, err] {
        if (done) done(MakeError(err));
      });
      return nullptr;
    }
    std::string wire = method + " " + parsed->target + " HTTP/1.1\r\nhost: " + parsed->host + ":" +
                       std::to_string(parsed->port) + "\r\n";
    for (const auto& h : headers) wire += h.name + ": " + h.value + "\r\n";
    if (!body.empty() || method == "POST")
      wire += "content-length: " + std::to_string(body.size()) + "\r\n";
    wire += "\r\n";
    wire += body;
    auto call = std::make_shared<CallImpl>(this, ctx_, std::move(*parsed), std::move(wire), timeout,
                                           std::move(cb));
    call->Start();
    return call;
  }

  std::unique_ptr<Conn> TakeIdle(const Url& u) {
    auto& list = idle_[Key(u)];
    while (!list.empty()) {
      auto c = std::move(list.back());
      list.pop_back();
      if (c->stream.socket().is_open()) {
        c->reused = true;
        return c;
      }
    }
    return nullptr;
  }

  void ReturnIdle(const Url& u, std::unique_ptr<Conn> c) {
    auto& list = idle_[Key(u)];
    if (list.size() >= 64) return;  // enough spare connections; drop this one
    c->stream.expires_never();
    list.push_back(std::move(c));
  }

 private:
  static std::string Key(const Url& u) {
    return (u.https ? "https://" : "http://") + u.host + ":" + std::to_string(u.port);
  }

  asio::io_context& ctx_;
  asio::ssl::context tls_ctx_;
  bool tls_ready_ = false;
  std::string tls_error_;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
};

void CallImpl::Start() {
  conn_ = client_->TakeIdle(url_);
  if (conn_) {
    WriteRequest();
  } else {
    Connect();
  }
}

void CallImpl::Connect() {
  conn_ = std::make_unique<Conn>(ctx_);
  auto self = shared_from_this();
  resolver_.async_resolve(
      url_.host, std::to_string(url_.port),
      [self](beast::error_code ec, const tcp::resolver::results_type& results) {
        if (self->finished_) return;
        if (ec) return self->Fail("cannot resolve " + self->url_.host + ": " + ec.message(), false);
        if (self->timeout_.count() > 0) self->conn_->stream.expires_after(self->timeout_);
        self->conn_->stream.async_connect(
            results, [self](beast::error_code ec, const tcp::endpoint&) {
              if (self->finished_) return;
              if (ec)
                return self->Fail("cannot connect to " + self->url_.host + ":" +
                                      std::to_string(self->url_.port) + ": " + ec.message(),
                                  false);
              beast::error_code ignored;
              self->conn_->stream.socket().set_option(tcp::no_delay(true), ignored);
              if (self->url_.https) return self->Handshake();
              self->WriteRequest();
            });
      });
}

void CallImpl::Handshake() {
  auto& c = *conn_;
  c.tls = std::make_unique<asio::ssl::stream<beast::tcp_stream&>>(c.stream, client_->tls_context());
  // SNI, and the certificate must name the host we asked for.
  SSL_set_tlsext_host_name(c.tls->native_handle(), url_.host.c_str());
  c.tls->set_verify_callback(asio::ssl::host_name_verification(url_.host));
  auto self = shared_from_this();
  c.tls->async_handshake(asio::ssl::stream_base::client, [self](beast::error_code ec) {
    if (self->finished_) return;
    if (ec) {
      return self->Fail("TLS handshake with " + self->url_.host + " failed: " + ec.message(),
                        false);
    }
    self->WriteRequest();
  });
}

void CallImpl::WriteRequest() {
  auto self = shared_from_this();
  if (timeout_.count() > 0) {
    conn_->stream.expires_after(timeout_);
  } else {
    conn_->stream.expires_never();
  }
  auto on_written = [self](beast::error_code ec, size_t) {
    if (self->finished_) return;
    if (ec) return self->Fail("write failed: " + ec.message(), true);
    self->ReadHead();
  };
  WithStream(*conn_, [&](auto& s) { asio::async_write(s, asio::buffer(wire_), on_written); });
}

void CallImpl::ReadHead() {
  parser_.emplace();
  parser_->body_limit(boost::none);
  auto self = shared_from_this();
  auto on_head = [self](beast::error_code ec, size_t n) {
    if (self->finished_) return;
    if (ec) {
      return self->Fail(ec == beast::error::timeout ? "upstream did not answer in time"
                                                    : "reading response failed: " + ec.message(),
                        !self->got_response_bytes_ && ec != beast::error::timeout);
    }
    self->got_response_bytes_ = true;
    self->conn_->stream.expires_never();
    ClientResponseHead head;
    head.status = static_cast<int>(self->parser_->get().result_int());
    for (const auto& f : self->parser_->get()) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      head.headers.push_back({std::move(name), std::string(f.value())});
    }
    if (self->cb_.on_head) self->cb_.on_head(head);
    if (self->finished_) return;
    if (self->parser_->is_done()) return self->Finish();
    self->ReadBody();
  };
  WithStream(*conn_,
             [&](auto& s) { bhttp::async_read_header(s, conn_->buffer, *parser_, on_head); });
}

void CallImpl::ReadBody() {
  parser_->get().body().data = body_buf_;
  parser_->get().body().size = sizeof body_buf_;
  auto self = shared_from_this();
  auto on_some = [self](beast::error_code ec, size_t) {
    if (self->finished_) return;
    size_t got = sizeof self->body_buf_ - self->parser_->get().body().size;
    if (got > 0 && self->cb_.on_body) self->cb_.on_body(std::string_view(self->body_buf_, got));
    if (self->finished_) return;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return self->Fail("reading response body failed: " + ec.message(), false);
    if (self->parser_->is_done()) return self->Finish();
    self->ReadBody();
  };
  WithStream(*conn_, [&](auto& s) { bhttp::async_read_some(s, conn_->buffer, *parser_, on_some); });
}

void CallImpl::Fail(const std::string& what, bool retryable) {
  bool reused = conn_ && conn_->reused;
  if (conn_) {
    beast::error_code ec;
    conn_->stream.socket().close(ec);
    conn_.reset();
  }
  if (retryable && reused && !retried_) {
    retried_ = true;  // the server closed an idle kept-alive connection under us: try a new one
    Connect();
    return;
  }
  finished_ = true;
  auto done = std::move(cb_.on_done);
  cb_ = {};
  if (done) done(MakeError(what));
}

void CallImpl::Finish() {
  finished_ = true;
  if (parser_->keep_alive() && conn_) {
    client_->ReturnIdle(url_, std::move(conn_));
  } else if (conn_) {
    beast::error_code ec;
    conn_->stream.socket().close(ec);
    conn_.reset();
  }
  auto done = std::move(cb_.on_done);
  cb_ = {};
  if (done) done(Status());
}

}  // namespace

std::unique_ptr<Client> NewClient(io::Loop& loop) { return std::make_unique<ClientImpl>(loop); }

}  // namespace mcpgw::http
