// The embedded PDP: the Rego engine in-process over PolicyStore. A decision is one EvalPath of
// the decision rule (and, on deny, one of the sibling `reasons`), inline on the loop thread.
#include "common/log.h"
#include "policy/decider.h"
#include "policy/input.h"
#include "policy/store.h"

namespace mcpgw::policy {
namespace {

class EmbeddedDecider : public Decider {
 public:
  EmbeddedDecider(io::Loop& loop, const config::PolicyConfig& cfg)
      : store_(loop, cfg.paths, cfg.reload_interval_ms),
        decision_path_(SplitPath(cfg.decision_path)),
        decision_path_text_(cfg.decision_path) {
    reasons_path_ = decision_path_;
    if (!reasons_path_.empty()) reasons_path_.back() = "reasons";
  }

  Status Start() override {
    Status s = store_.Load();
    if (!s.ok()) return MakeError("cannot load the policy: " + s.error().message);
    store_.StartWatching();
    return {};
  }

  void Stop() override { store_.StopWatching(); }

  void Decide(const rego::Value& input, Done done) override { done(DecideNow(input)); }

  // List filtering: one batch (documents that do not depend on the item are computed once per
  // list), no reasons (nobody sees them) and one decision id for the whole list (used in logs).
  void DecideMany(const rego::Value& base, std::vector<rego::Value> items, DoneMany done) override {
    std::vector<Decision> out(items.size());
    std::string id = NewDecisionId();
    std::shared_ptr<const rego::Policy> policy = store_.Current();
    if (!policy) {
      log::Error("policy decision failed; list items denied",
                 {{"decision_id", id}, {"reason", "no policy loaded"}});
      for (auto& d : out) Deny(d, id);
      return done(std::move(out));
    }
    auto results = policy->EvalPathBatch(decision_path_, base, items, {});
    size_t failed = 0;
    std::optional<Undecided> first;
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].decision_id = id;
      if (auto failure = Failure(results[i])) {
        Deny(out[i], id);
        if (failed++ == 0) first = std::move(failure);
        continue;
      }
      out[i].allow = (*results[i])->as_bool();
    }
    if (first) {  // one line per list (the first item's failure), not one per item
      log::Error("policy decision failed; list items denied",
                 {{"decision_id", id},
                  {"decision_path", decision_path_text_},
                  {"denied_items", std::to_string(failed)},
                  {"reason", first->why},
                  {"error", first->detail}});
    }
    done(std::move(out));
  }

  void SetData(const std::string& path, const rego::Value& value,
               std::function<void(Status)> done) override {
    Status s = store_.SetData(SplitPath(path), value);
    if (s.ok()) {
      log::Info("policy data replaced at runtime", {{"path", path}});
    } else {
      log::Warn("policy data rejected", {{"path", path}, {"error", s.error().message}});
    }
    if (done) done(std::move(s));
  }

  void GetData(const std::string& path,
               std::function<void(Result<std::optional<rego::Value>>)> done) override {
    done(store_.GetData(SplitPath(path)));
  }

  void Reload() override { (void)store_.Reload(/*force=*/true, "sighup"); }
  void SetObserver(const PolicyObserver& observer) override { store_.SetObserver(observer); }

  bool Ready() const override { return store_.Current() != nullptr; }
  const char* backend() const override { return "embedded"; }

  std::string Describe() const override {
    std::string paths;
    for (const auto& p : store_.paths()) paths += (paths.empty() ? "" : ",") + p;
    std::string out = "embedded " + paths + " (" + std::to_string(store_.file_count()) +
                      " files, generation " + std::to_string(store_.generation()) + ")";
    if (!store_.last_error().empty()) out += "; last reload rejected: " + store_.last_error();
    return out;
  }

 private:
  Decision DecideNow(const rego::Value& input) {
    Decision d;
    d.decision_id = NewDecisionId();
    auto deny_error = [&](std::string_view why, std::string_view detail) {
      Deny(d, d.decision_id);
      log::Error("policy decision failed; denied", {{"decision_id", d.decision_id},
                                                    {"decision_path", decision_path_text_},
                                                    {"reason", why},
                                                    {"error", detail}});
    };
    std::shared_ptr<const rego::Policy> policy = store_.Current();
    if (!policy) {
      deny_error("no policy loaded", store_.last_error());
      return d;
    }
    rego::EvalOptions opts;
    auto r = policy->EvalPath(decision_path_, &input, opts);
    if (auto failure = Failure(r)) {
      deny_error(failure->why, failure->detail);
      return d;
    }
    const rego::Value& v = **r;
    d.allow = v.as_bool();
    if (d.allow) return d;
    auto reasons = policy->EvalPath(reasons_path_, &input, opts);
    if (reasons.ok() && reasons->has_value()) {
      d.reasons = ReasonStrings(**reasons);
    } else if (!reasons.ok()) {
      log::Warn("policy reasons cannot be evaluated",
                {{"decision_id", d.decision_id}, {"error", reasons.error().message}});
    }
    return d;
  }

  // Why an evaluation of the decision does not decide (fail closed), or nullopt for a boolean.
  struct Undecided {
    std::string why;
    std::string detail;
  };
  static std::optional<Undecided> Failure(const Result<std::optional<rego::Value>>& r) {
    if (!r.ok()) return Undecided{"evaluation error", r.error().message};
    if (!r->has_value()) return Undecided{"the decision is undefined", ""};
    if (!(*r)->is_bool()) return Undecided{"the decision is not a boolean", (*r)->ToString()};
    return std::nullopt;
  }

  static void Deny(Decision& d, const std::string& id) {
    d.allow = false;
    d.error = true;
    d.decision_id = id;
    d.reasons = {kUnavailableReason};
  }

  PolicyStore store_;
  std::vector<std::string> decision_path_;
  std::vector<std::string> reasons_path_;
  std::string decision_path_text_;
};

}  // namespace

std::unique_ptr<Decider> NewEmbeddedDecider(io::Loop& loop, const config::PolicyConfig& config) {
  return std::make_unique<EmbeddedDecider>(loop, config);
}

}  // namespace mcpgw::policy
