#include "common/log.h"
#include "upstream/transport.h"

namespace mcpgw::upstream {
namespace {

constexpr size_t kMaxLine = 64 << 20;  // a message larger than this is a broken upstream

class StdioTransport : public Transport {
 public:
  StdioTransport(io::Loop& loop, Spawner& spawner, const config::ServerConfig& server)
      : loop_(loop), spawner_(spawner), server_(server) {}

  ~StdioTransport() override {
    if (proc_) {
      proc_->Detach();
      proc_->Stop(io::Millis(500), nullptr);
    }
  }

  Status Start(Callbacks cb) override {
    cb_ = std::move(cb);
    buf_.clear();
    SpawnOptions opt{server_.command, server_.env, server_.cwd};
    Process::Callbacks pcb;
    pcb.on_stdout = [this](std::string_view data) { OnStdout(data); };
    pcb.on_stderr_line = [this](std::string_view line) {
      log::Info("upstream stderr", {{"server", server_.name}, {"line", line}});
    };
    pcb.on_exit = [this](int code, const std::string& how) {
      proc_.reset();
      if (cb_.on_closed) cb_.on_closed("process " + how);
    };
    auto p = spawner_.Spawn(opt, std::move(pcb));
    if (!p.ok()) return p.error();
    proc_ = std::move(p).value();
    log::Info("upstream process started",
              {{"server", server_.name}, {"pid", static_cast<int64_t>(proc_->pid())}});
    return {};
  }

  void Send(std::string message, int64_t) override {
    if (!proc_) return;
    message += '\n';
    proc_->WriteStdin(std::move(message));
  }

  void SetProtocolVersion(std::string) override {}
  void Initialized() override {}

  void Stop(std::function<void()> done) override {
    if (!proc_) {
      if (done) loop_.Post(std::move(done));
      return;
    }
    cb_.on_closed = nullptr;
    proc_->Stop(io::Millis(1500), std::move(done));
  }

  std::string Describe() const override {
    std::string s;
    for (const auto& a : server_.command) s += (s.empty() ? "" : " ") + a;
    return s;
  }
  int64_t pid() const override { return proc_ ? proc_->pid() : 0; }

 private:
  void OnStdout(std::string_view data) {
    size_t start = 0;
    while (true) {
      size_t nl = data.find('\n', start);
      if (nl == std::string_view::npos) {
        buf_.append(data.substr(start));
        if (buf_.size() > kMaxLine) {
          log::Error("upstream wrote an over-long line; dropping it", {{"server", server_.name}});
          buf_.clear();
        }
        return;
      }
      if (buf_.empty()) {
        HandleLine(data.substr(start, nl - start));
      } else {
        buf_.append(data.substr(start, nl - start));
        std::string line = std::move(buf_);
        buf_.clear();
        HandleLine(line);
      }
      start = nl + 1;
    }
  }

  void HandleLine(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) return;
    for (auto& msg : jsonrpc::ParseMessages(line)) {  // a 2025-03-26 server may batch
      if (!msg.ok()) {
        // Servers that print banners to stdout break the protocol; say so, keep going.
        log::Warn("upstream wrote a non-JSON-RPC line on stdout", {{"server", server_.name},
                                                                   {"error", msg.error().message},
                                                                   {"line", line.substr(0, 200)}});
        continue;
      }
      if (cb_.on_message) cb_.on_message(std::move(msg).value(), std::nullopt);
    }
  }

  io::Loop& loop_;
  Spawner& spawner_;
  const config::ServerConfig& server_;
  Callbacks cb_;
  std::shared_ptr<Process> proc_;
  std::string buf_;
};

}  // namespace

std::unique_ptr<Transport> NewStdioTransport(io::Loop& loop, Spawner& spawner,
                                             const config::ServerConfig& server) {
  return std::make_unique<StdioTransport>(loop, spawner, server);
}

}  // namespace mcpgw::upstream
