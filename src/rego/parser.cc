// Rego v1 parser: a hand-written lexer and recursive-descent parser producing ast.h trees.
// Newlines end expressions inside bodies (as in OPA), except inside brackets.
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "rego/ast.h"
#include "rego/engine.h"

namespace mcpgw::rego {

std::string Location::ToString() const {
  return (file ? *file : std::string("query")) + ":" + std::to_string(line) + ":" +
         std::to_string(col);
}

namespace {

enum class Tok {
  kEof,
  kIdent,
  kString,    // value in text (unescaped)
  kTemplate,  // $"..." raw text between the quotes (escapes kept), or $`...`
  kNumber,
  kPunct,  // text holds the punctuation
};

struct Token {
  Tok kind = Tok::kEof;
  std::string text;
  bool raw_template = false;
  bool nl_before = false;  // a newline between the previous token and this one
  int line = 1;
  int col = 1;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Lexer {
 public:
  explicit Lexer(const std::string& src) : s_(src) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    bool nl = false;
    while (true) {
      // Skip whitespace and comments.
      while (i_ < s_.size()) {
        char c = s_[i_];
        if (c == '\n') {
          nl = true;
          Advance();
        } else if (c == ' ' || c == '\t' || c == '\r') {
          Advance();
        } else if (c == '#') {
          while (i_ < s_.size() && s_[i_] != '\n') Advance();
        } else {
          break;
        }
      }
      Token t;
      t.nl_before = nl;
      t.line = line_;
      t.col = col_;
      nl = false;
      if (i_ >= s_.size()) {
        t.kind = Tok::kEof;
        out.push_back(t);
        return out;
      }
      char c = s_[i_];
      if (IsIdentStart(c)) {
        size_t st = i_;
        while (i_ < s_.size() && IsIdentChar(s_[i_])) Advance();
        t.kind = Tok::kIdent;
        t.text = s_.substr(st, i_ - st);
      } else if (std::isdigit(static_cast<unsigned char>(c))) {  // ".5" is not a Rego number
        size_t st = i_;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) Advance();
        if (i_ < s_.size() && s_[i_] == '.' && i_ + 1 < s_.size() &&
            std::isdigit(static_cast<unsigned char>(s_[i_ + 1]))) {
          Advance();
          while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) Advance();
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
          size_t save = i_;
          Advance();
          if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) Advance();
          if (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
            while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) Advance();
          } else {
            i_ = save;
          }
        }
        t.kind = Tok::kNumber;
        t.text = s_.substr(st, i_ - st);
      } else if (c == '"') {
        auto str = LexString();
        if (!str) return str.error();
        t.kind = Tok::kString;
        t.text = std::move(*str);
      } else if (c == '`') {
        Advance();
        size_t st = i_;
        while (i_ < s_.size() && s_[i_] != '`') Advance();
        if (i_ >= s_.size()) return Err(t, "non-terminated raw string");
        t.kind = Tok::kString;
        t.text = s_.substr(st, i_ - st);
        Advance();
      } else if (c == '$' && i_ + 1 < s_.size() && (s_[i_ + 1] == '"' || s_[i_ + 1] == '`')) {
        char q = s_[i_ + 1];
        Advance();
        Advance();
        size_t st = i_;
        int depth = 0;
        while (i_ < s_.size()) {
          char d = s_[i_];
          if (q == '"' && d == '\\' && i_ + 1 < s_.size()) {
            Advance();
            Advance();
            continue;
          }
          if (d == '{') depth++;
          if (d == '}' && depth > 0) depth--;
          if (d == q && depth == 0) break;
          if (q == '"' && d == '\n') return Err(t, "non-terminated string");
          Advance();
        }
        if (i_ >= s_.size()) return Err(t, "non-terminated template string");
        t.kind = Tok::kTemplate;
        t.raw_template = q == '`';
        t.text = s_.substr(st, i_ - st);
        Advance();
      } else {
        static const char* kTwo[] = {":=", "==", "!=", "<=", ">="};
        t.kind = Tok::kPunct;
        bool two = false;
        for (const char* p : kTwo) {
          if (s_.compare(i_, 2, p) == 0) {
            t.text = p;
            Advance();
            Advance();
            two = true;
            break;
          }
        }
        if (!two) {
          if (std::strchr("{}[]().,;:=<>+-*/%&|", c) == nullptr) {
            return Err(t, std::string("illegal token '") + c + "'");
          }
          t.text = std::string(1, c);
          Advance();
        }
      }
      out.push_back(std::move(t));
    }
  }

 private:
  void Advance() {
    if (s_[i_] == '\n') {
      line_++;
      col_ = 1;
    } else {
      col_++;
    }
    i_++;
  }

  Error Err(const Token& t, const std::string& msg) {
    return MakeError(std::to_string(t.line) + ":" + std::to_string(t.col) + ": " + msg,
                     kParseError);
  }

  Result<std::string> LexString() {
    Token at;
    at.line = line_;
    at.col = col_;
    Advance();  // opening quote
    std::string out;
    while (true) {
      if (i_ >= s_.size() || s_[i_] == '\n') return Err(at, "non-terminated string");
      char c = s_[i_];
      if (c == '"') {
        Advance();
        return out;
      }
      if (c == '\\') {
        Advance();
        if (i_ >= s_.size()) return Err(at, "non-terminated string");
        char e = s_[i_];
        Advance();
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            auto hex4 = [&](uint32_t& cp) -> bool {
              if (i_ + 4 > s_.size()) return false;
              cp = 0;
              for (int k = 0; k < 4; ++k) {
                char h = s_[i_];
                cp <<= 4;
                if (h >= '0' && h <= '9') {
                  cp |= h - '0';
                } else if (h >= 'a' && h <= 'f') {
                  cp |= h - 'a' + 10;
                } else if (h >= 'A' && h <= 'F') {
                  cp |= h - 'A' + 10;
                } else {
                  return false;
                }
                Advance();
              }
              return true;
            };
            uint32_t cp = 0;
            if (!hex4(cp)) return Err(at, "invalid unicode escape");
            if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < s_.size() && s_[i_] == '\\' &&
                s_[i_ + 1] == 'u') {
              Advance();
              Advance();
              uint32_t lo = 0;
              if (!hex4(lo)) return Err(at, "invalid unicode escape");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            AppendUtf8(out, cp);
            break;
          }
          default:
            return Err(at, std::string("illegal escape sequence \\") + e);
        }
        continue;
      }
      out.push_back(c);
      Advance();
    }
  }

  const std::string& s_;
  size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
};

bool IsKeyword(const std::string& s) {
  static const char* kKeywords[] = {"package", "import", "default", "if",    "contains",
                                    "else",    "some",   "in",      "every", "not",
                                    "with",    "as",     "true",    "false", "null"};
  for (const char* k : kKeywords) {
    if (s == k) return true;
  }
  return false;
}

TermPtr MakeValueTerm(Value v, Location loc) {
  auto t = std::make_shared<Term>();
  t->kind = TermKind::kValue;
  t->value = std::move(v);
  t->loc = loc;
  return t;
}

TermPtr MakeVar(std::string name, Location loc) {
  auto t = std::make_shared<Term>();
  t->kind = TermKind::kVar;
  t->name = std::move(name);
  t->loc = loc;
  return t;
}

TermPtr MakeCall(std::string name, std::vector<TermPtr> args, Location loc) {
  auto t = std::make_shared<Term>();
  t->kind = TermKind::kCall;
  t->name = std::move(name);
  t->items = std::move(args);
  t->loc = loc;
  return t;
}

// Folds a composite literal whose items are all values into a single value term.
TermPtr FoldComposite(const TermPtr& t) {
  for (const auto& it : t->items) {
    if (it->kind != TermKind::kValue) return t;
  }
  Value v;
  if (t->kind == TermKind::kArray) {
    Array a;
    for (const auto& it : t->items) a.push_back(it->value);
    v = Value::FromArray(std::move(a));
  } else if (t->kind == TermKind::kSet) {
    Set s;
    for (const auto& it : t->items) s.insert(it->value);
    v = Value::FromSet(std::move(s));
  } else if (t->kind == TermKind::kObject) {
    Object o;
    for (size_t i = 0; i + 1 < t->items.size(); i += 2) {
      o.insert_or_assign(t->items[i]->value, t->items[i + 1]->value);
    }
    v = Value::FromObject(std::move(o));
  } else {
    return t;
  }
  return MakeValueTerm(std::move(v), t->loc);
}

// Sets a flag for the lifetime of the guard.
class FlagGuard {
 public:
  FlagGuard(bool& flag, bool value) : flag_(flag), saved_(flag) { flag_ = value; }
  ~FlagGuard() { flag_ = saved_; }
  FlagGuard(const FlagGuard&) = delete;
  FlagGuard& operator=(const FlagGuard&) = delete;

 private:
  bool& flag_;
  bool saved_;
};

class Parser {
 public:
  Parser(std::vector<Token> toks, const std::string* file) : t_(std::move(toks)), file_(file) {}

  Result<std::shared_ptr<Module>> ParseModule(std::shared_ptr<Module> m) {
    if (!IsIdent("package")) return Err("expected package declaration");
    Next();
    auto pkg = ParseDottedPath();
    if (!pkg) return pkg.error();
    if (!pkg->empty() && (*pkg)[0] == "data") pkg->erase(pkg->begin());
    m->package = *pkg;
    while (IsIdent("import")) {
      Import imp;
      imp.loc = Loc();
      Next();
      auto path = ParseDottedPath();
      if (!path) return path.error();
      imp.path = *path;
      if (imp.path.empty() || (imp.path[0] != "data" && imp.path[0] != "input" &&
                               imp.path[0] != "future" && imp.path[0] != "rego")) {
        return ErrAt(imp.loc, "rego_parse_error: invalid import, must begin with input or data");
      }
      if (IsIdent("as")) {
        Next();
        if (Cur().kind != Tok::kIdent) return Err("expected alias");
        imp.alias = Cur().text;
        Next();
      } else {
        imp.alias = imp.path.back();
      }
      m->imports.push_back(std::move(imp));
    }
    while (Cur().kind != Tok::kEof) {
      auto rules = ParseRule();
      if (!rules) return rules.error();
      for (auto& r : *rules) m->rules.push_back(r);
    }
    return m;
  }

  Result<BodyPtr> ParseQueryBody() {
    auto body = std::make_shared<Body>();
    while (Cur().kind != Tok::kEof) {
      if (IsPunct(";")) {
        Next();
        continue;
      }
      auto e = ParseLiteral();
      if (!e) return e.error();
      body->push_back(std::move(*e));
      if (Cur().kind != Tok::kEof && !IsPunct(";") && !Cur().nl_before) {
        return Err("unexpected " + Describe(Cur()) + " token");
      }
    }
    if (body->empty()) return Err("empty query");
    return body;
  }

 private:
  const Token& Cur() const { return t_[p_]; }
  const Token& Peek(size_t k = 1) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  void Next() {
    if (p_ + 1 < t_.size()) p_++;
  }
  bool IsPunct(const char* s) const { return Cur().kind == Tok::kPunct && Cur().text == s; }
  // A keyword token used as a keyword (not as a name: `false.foo`, `import.x` are references).
  bool IsIdent(const char* s) const {
    return Cur().kind == Tok::kIdent && Cur().text == s && !NextIsDot();
  }
  bool NextIsDot() const {
    const Token& n = Peek(1);
    return n.kind == Tok::kPunct && n.text == "." && !n.nl_before;
  }
  Location Loc() const { return Location{file_, Cur().line, Cur().col}; }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEof:
        return "eof";
      case Tok::kIdent:
        return IsKeyword(t.text) ? t.text : "ident";
      case Tok::kString:
        return "string";
      case Tok::kTemplate:
        return "template string";
      case Tok::kNumber:
        return "number";
      case Tok::kPunct:
        return t.text;
    }
    return "token";
  }

  Error Err(const std::string& msg) const { return ErrAt(Loc(), "rego_parse_error: " + msg); }
  static Error ErrAt(const Location& loc, const std::string& msg) {
    return MakeError(loc.ToString() + ": " + msg, kParseError);
  }

  Status Expect(const char* punct) {
    if (!IsPunct(punct)) {
      return Err("unexpected " + Describe(Cur()) + " token: expected " + punct);
    }
    Next();
    return {};
  }

  Result<std::vector<std::string>> ParseDottedPath() {
    std::vector<std::string> out;
    if (Cur().kind != Tok::kIdent)
      return Err("unexpected " + Describe(Cur()) + " token: expected ident");
    out.push_back(Cur().text);
    Next();
    while (true) {
      if (IsPunct(".") && !Cur().nl_before) {
        Next();
        if (Cur().kind != Tok::kIdent) return Err("expected ident");
        out.push_back(Cur().text);
        Next();
      } else if (IsPunct("[") && !Cur().nl_before) {
        Next();
        if (Cur().kind != Tok::kString) return Err("expected string in package path");
        out.push_back(Cur().text);
        Next();
        if (auto st = Expect("]"); !st) return st.error();
      } else {
        break;
      }
    }
    return out;
  }

  // --- rules ---------------------------------------------------------------------------------

  Result<std::vector<std::shared_ptr<Rule>>> ParseRule() {
    auto rule = std::make_shared<Rule>();
    rule->loc = Loc();
    if (IsIdent("default")) {
      rule->is_default = true;
      Next();
    }
    if (Cur().kind != Tok::kIdent || (IsKeyword(Cur().text) && !NextIsDot())) {
      return Err("unexpected " + Describe(Cur()) + " token: expected rule head");
    }
    // Head reference: name(.name | [term])*
    rule->ref.push_back(MakeValueTerm(Value::String(Cur().text), Loc()));
    Next();
    while (!Cur().nl_before) {
      if (IsPunct(".")) {
        Next();
        if (Cur().kind != Tok::kIdent) return Err("expected ident");
        rule->ref.push_back(MakeValueTerm(Value::String(Cur().text), Loc()));
        Next();
      } else if (IsPunct("[")) {
        Next();
        auto t = ParseTerm();
        if (!t) return t.error();
        rule->ref.push_back(*t);
        if (auto st = Expect("]"); !st) return st.error();
      } else {
        break;
      }
    }
    if (IsPunct("(") && !Cur().nl_before) {
      rule->kind = RuleKind::kFunction;
      Next();
      while (!IsPunct(")")) {
        auto a = ParseTerm();
        if (!a) return a.error();
        rule->args.push_back(*a);
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct(")")) {
          return Err("expected , or )");
        }
      }
      Next();
    }
    if (IsIdent("contains") && rule->kind != RuleKind::kFunction) {
      Next();
      rule->kind = RuleKind::kPartialSet;
      auto k = ParseExprTerm();
      if (!k) return k.error();
      rule->key = *k;
    } else if (IsPunct(":=") || IsPunct("=")) {
      rule->assign = IsPunct(":=");
      Next();
      auto v = ParseExprTerm();
      if (!v) return v.error();
      rule->value = *v;
    }
    if (rule->is_default) {
      if (!rule->value) return ErrAt(rule->loc, "rego_parse_error: default rule must have a value");
      for (const auto& a : rule->args) {
        if (a->kind != TermKind::kVar) {
          return ErrAt(rule->loc, "rego_parse_error: default function arguments must be variables");
        }
      }
      rule->body = std::make_shared<Body>();
      return std::vector<std::shared_ptr<Rule>>{rule};
    }
    auto body = ParseRuleBody(true);
    if (!body) return body.error();
    rule->body = *body;
    // else chain
    Rule* last = rule.get();
    while (IsIdent("else")) {
      auto el = std::make_shared<Rule>();
      el->loc = Loc();
      Next();
      el->kind = rule->kind;
      el->ref = rule->ref;
      el->args = rule->args;
      if (IsPunct(":=") || IsPunct("=")) {
        el->assign = IsPunct(":=");
        Next();
        auto v = ParseExprTerm();
        if (!v) return v.error();
        el->value = *v;
      }
      auto eb = ParseRuleBody(false);
      if (!eb) return eb.error();
      el->body = *eb;
      last->else_rule = el;
      last = el.get();
    }
    std::vector<std::shared_ptr<Rule>> out{rule};
    // Chained bodies: p if { a } { b } (OPA: p { a } { b }) — additional rule definitions.
    while (IsPunct("{") && !Cur().nl_before) {
      auto more = std::make_shared<Rule>(*rule);
      more->else_rule = nullptr;
      auto b = ParseBraceBody();
      if (!b) return b.error();
      more->body = *b;
      out.push_back(more);
    }
    return out;
  }

  // After the head: "if" body | "if" literal | "{" body "}" | nothing.
  Result<BodyPtr> ParseRuleBody(bool allow_empty) {
    if (IsIdent("if")) {
      Next();
      if (IsPunct("{")) {
        // "if {" is a body, or else a single expression starting with an object or set
        // literal or comprehension ({x: i | ...}).
        size_t save = p_;
        int saved_depth = depth_;
        auto body = ParseBraceBody();
        if (body) return body;
        p_ = save;
        depth_ = saved_depth;
        auto e = ParseLiteral();
        if (!e) return body.error();
        auto b = std::make_shared<Body>();
        b->push_back(std::move(*e));
        return b;
      }
      auto e = ParseLiteral();
      if (!e) return e.error();
      auto b = std::make_shared<Body>();
      b->push_back(std::move(*e));
      return b;
    }
    if (IsPunct("{") && !Cur().nl_before) return ParseBraceBody();
    if (IsPunct("{")) return ParseBraceBody();
    return std::make_shared<Body>();
  }

  Result<BodyPtr> ParseBraceBody() {
    if (auto st = Expect("{"); !st) return st.error();
    int saved = depth_;
    depth_ = 0;
    auto body = std::make_shared<Body>();
    while (!IsPunct("}")) {
      if (Cur().kind == Tok::kEof) return Err("unexpected eof token: expected }");
      if (IsPunct(";")) {
        Next();
        continue;
      }
      auto e = ParseLiteral();
      if (!e) return e.error();
      body->push_back(std::move(*e));
      if (!IsPunct("}") && !IsPunct(";") && !Cur().nl_before) {
        return Err("unexpected " + Describe(Cur()) + " token");
      }
    }
    Next();
    depth_ = saved;
    if (body->empty()) return Err("found empty body");
    return body;
  }

  // --- expressions ---------------------------------------------------------------------------

  Result<Expr> ParseLiteral() {
    Expr e;
    e.loc = Loc();
    if (IsIdent("not")) {
      Next();
      e.negated = true;
    }
    if (IsIdent("some")) {
      if (e.negated) return Err("unexpected some after not");
      Next();
      auto r = ParseSome(e);
      if (!r) return r.error();
    } else if (IsIdent("every")) {
      if (e.negated) return Err("unexpected every after not");
      Next();
      auto r = ParseEvery(e);
      if (!r) return r.error();
    } else {
      auto lhs = ParseMember3OrExpr();
      if (!lhs) return lhs.error();
      if (IsPunct(":=") || (IsPunct("=") && !IsPunctAt(1, "="))) {
        e.kind = IsPunct(":=") ? ExprKind::kAssign : ExprKind::kUnify;
        Next();
        auto rhs = ParseExprTerm();
        if (!rhs) return rhs.error();
        e.lhs = *lhs;
        e.rhs = *rhs;
      } else {
        e.kind = ExprKind::kTerm;
        e.lhs = *lhs;
      }
    }
    while (IsIdent("with")) {
      Next();
      With w;
      auto target = ParseRefOnly();
      if (!target) return target.error();
      w.target = *target;
      if (!IsIdent("as")) return Err("expected as");
      Next();
      auto v = ParseExprTerm();
      if (!v) return v.error();
      w.value = *v;
      e.withs.push_back(std::move(w));
    }
    return e;
  }

  bool IsPunctAt(size_t k, const char* s) const {
    const Token& t = Peek(k);
    return t.kind == Tok::kPunct && t.text == s;
  }

  // A with-target: a plain reference (input.x, data.y, or a function name).
  Result<TermPtr> ParseRefOnly() {
    auto t = ParseTerm(/*allow_calls=*/false);
    if (!t) return t.error();
    return t;
  }

  Status ParseSome(Expr& e) {
    // some x, y   |   some x in xs   |   some k, v in xs
    std::vector<TermPtr> terms;
    int saved = depth_;
    while (true) {
      auto t = ParseBinary(kPrecIn + 1);
      if (!t) return t.error();
      terms.push_back(*t);
      if (IsPunct(",") && !Cur().nl_before) {
        Next();
        continue;
      }
      break;
    }
    depth_ = saved;
    if (IsIdent("in") && (!Cur().nl_before || depth_ > 0)) {
      Next();
      if (terms.size() > 2) return Err("unexpected , in some ... in");
      auto coll = ParseBinary(kPrecIn + 1);
      if (!coll) return coll.error();
      e.kind = ExprKind::kSomeIn;
      if (terms.size() == 2) {
        e.key = terms[0];
        e.val = terms[1];
      } else {
        e.val = terms[0];
      }
      e.coll = *coll;
      return {};
    }
    for (auto& t : terms) {
      if (t->kind != TermKind::kVar) return Err("expected var in some declaration");
    }
    e.kind = ExprKind::kSome;
    e.vars = std::move(terms);
    return {};
  }

  Status ParseEvery(Expr& e) {
    auto first = ParseBinary(kPrecIn + 1);
    if (!first) return first.error();
    if (IsPunct(",")) {
      Next();
      auto second = ParseBinary(kPrecIn + 1);
      if (!second) return second.error();
      e.key = *first;
      e.val = *second;
    } else {
      e.val = *first;
    }
    if (!IsIdent("in")) return Err("expected in");
    Next();
    auto coll = ParseBinary(kPrecIn + 1);
    if (!coll) return coll.error();
    e.coll = *coll;
    auto body = ParseBraceBody();
    if (!body) return body.error();
    e.body = *body;
    e.kind = ExprKind::kEvery;
    return {};
  }

  // Precedence (low to high): in(1)  | (2)  & (3)  == != < <= > >= (4)  + - (5)  * / % (6)
  static constexpr int kPrecIn = 1;

  Result<TermPtr> ParseExprTerm() { return ParseBinary(kPrecIn); }

  // `key, value in coll` (membership with key) where a ',' cannot mean anything else: a whole
  // expression or a parenthesised one.
  Result<TermPtr> ParseMember3OrExpr() {
    auto first = ParseExprTerm();
    if (!first || !IsPunct(",")) return first;
    Location loc = Loc();
    Next();
    auto second = ParseBinary(kPrecIn + 1);
    if (!second) return second.error();
    if (!IsIdent("in")) return Err("unexpected " + Describe(Cur()) + " token: expected in");
    Next();
    auto coll = ParseBinary(kPrecIn + 1);
    if (!coll) return coll.error();
    TermPtr t = MakeCall("internal.member_3", {*first, *second, *coll}, loc);
    // `(k, v in c) in d`: the result may be used by a following operator.
    while (!(Cur().nl_before && depth_ == 0)) {
      std::string op;
      int prec = BinaryPrec(Cur(), &op);
      if (prec < kPrecIn) break;
      Location l2 = Loc();
      Next();
      auto rhs = ParseBinary(prec + 1);
      if (!rhs) return rhs.error();
      t = MakeCall(op == "in" ? "internal.member_2" : op, {t, *rhs}, l2);
    }
    return t;
  }

  int BinaryPrec(const Token& t, std::string* op) const {
    if (t.kind == Tok::kIdent && t.text == "in") {
      *op = "in";
      return 1;
    }
    if (t.kind != Tok::kPunct) return -1;
    const std::string& s = t.text;
    if (s == "|" && !no_bar_) {
      *op = "or";
      return 2;
    }
    if (s == "&") {
      *op = "and";
      return 3;
    }
    if (s == "==") {
      *op = "equal";
      return 4;
    }
    if (s == "!=") {
      *op = "neq";
      return 4;
    }
    if (s == "<") {
      *op = "lt";
      return 4;
    }
    if (s == "<=") {
      *op = "lte";
      return 4;
    }
    if (s == ">") {
      *op = "gt";
      return 4;
    }
    if (s == ">=") {
      *op = "gte";
      return 4;
    }
    if (s == "+") {
      *op = "plus";
      return 5;
    }
    if (s == "-") {
      *op = "minus";
      return 5;
    }
    if (s == "*") {
      *op = "mul";
      return 6;
    }
    if (s == "/") {
      *op = "div";
      return 6;
    }
    if (s == "%") {
      *op = "rem";
      return 6;
    }
    return -1;
  }

  Result<TermPtr> ParseBinary(int min_prec) {
    auto lhs = ParseUnary();
    if (!lhs) return lhs.error();
    TermPtr left = *lhs;
    while (true) {
      if (Cur().nl_before && depth_ == 0) break;
      std::string op;
      int prec = BinaryPrec(Cur(), &op);
      if (prec < min_prec) break;
      Location loc = Loc();
      Next();
      // "x, y in xs" is handled by callers; here `a in b` is membership.
      auto rhs = ParseBinary(prec + 1);
      if (!rhs) return rhs.error();
      if (op == "in") {
        left = MakeCall("internal.member_2", {left, *rhs}, loc);
      } else {
        left = MakeCall(op, {left, *rhs}, loc);
      }
    }
    return left;
  }

  Result<TermPtr> ParseUnary() {
    if (IsPunct("-")) {
      Location loc = Loc();
      Next();
      if (Cur().kind == Tok::kNumber) {
        auto t = ParseTerm();
        if (!t) return t.error();
        if ((*t)->kind == TermKind::kValue && (*t)->value.is_number()) {
          const Value& v = (*t)->value;
          (*t)->value = v.is_int() ? Value::Int(-v.as_int()) : Value::Double(-v.as_double());
          return t;
        }
        return MakeCall("minus", {MakeValueTerm(Value::Int(0), loc), *t}, loc);
      }
      auto t = ParseUnary();
      if (!t) return t.error();
      return MakeCall("minus", {MakeValueTerm(Value::Int(0), loc), *t}, loc);
    }
    return ParseTerm();
  }

  Result<Value> ParseNumber(const std::string& text) {
    bool integral = text.find_first_of(".eE") == std::string::npos;
    if (integral) {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') return Value::Int(v);
    }
    double d = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(d)) return Err("number too large");
    return Value::Double(d);
  }

  // term := operand ( '.' ident | '[' term ']' | '(' args ')' )*
  Result<TermPtr> ParseTerm(bool allow_calls = true) {
    auto op = ParseOperand();
    if (!op) return op.error();
    TermPtr t = *op;
    while (true) {
      if (Cur().nl_before && depth_ == 0) break;
      if (IsPunct(".")) {
        // ref continuation: .ident
        Next();
        if (Cur().kind != Tok::kIdent)
          return Err("unexpected " + Describe(Cur()) + " token: expected ident");
        t = AppendRef(t, MakeValueTerm(Value::String(Cur().text), Loc()));
        Next();
      } else if (IsPunct("[") && !Cur().nl_before) {
        FlagGuard bar(no_bar_, false);
        Next();
        depth_++;
        auto k = ParseExprTerm();
        depth_--;
        if (!k) return k.error();
        if (auto st = Expect("]"); !st) return st.error();
        t = AppendRef(t, *k);
      } else if (IsPunct("(") && allow_calls && IsCallable(t)) {
        Location loc = t->loc;
        std::string name = RefName(t);
        FlagGuard bar(no_bar_, false);
        Next();
        depth_++;
        std::vector<TermPtr> args;
        while (!IsPunct(")")) {
          auto a = ParseExprTerm();
          if (!a) {
            depth_--;
            return a.error();
          }
          args.push_back(*a);
          if (IsPunct(",")) {
            Next();
          } else if (!IsPunct(")")) {
            depth_--;
            return Err("unexpected " + Describe(Cur()) + " token: expected , or )");
          }
        }
        depth_--;
        Next();
        t = MakeCall(name, std::move(args), loc);
      } else {
        break;
      }
    }
    return t;
  }

  static bool IsCallable(const TermPtr& t) {
    if (t->kind == TermKind::kVar) return true;
    if (t->kind != TermKind::kRef) return false;
    if (t->items[0]->kind != TermKind::kVar) return false;
    for (size_t i = 1; i < t->items.size(); ++i) {
      if (t->items[i]->kind != TermKind::kValue || !t->items[i]->value.is_string()) return false;
    }
    return true;
  }

  static std::string RefName(const TermPtr& t) {
    if (t->kind == TermKind::kVar) return t->name;
    std::string s = t->items[0]->name;
    for (size_t i = 1; i < t->items.size(); ++i) s += "." + t->items[i]->value.str();
    return s;
  }

  static TermPtr AppendRef(const TermPtr& t, TermPtr key) {
    if (t->kind == TermKind::kRef) {
      auto r = std::make_shared<Term>(*t);
      r->items.push_back(std::move(key));
      return r;
    }
    auto r = std::make_shared<Term>();
    r->kind = TermKind::kRef;
    r->loc = t->loc;
    r->items = {t, std::move(key)};
    return r;
  }

  Result<TermPtr> ParseOperand() {
    const Token& tok = Cur();
    Location loc = Loc();
    switch (tok.kind) {
      case Tok::kEof:
        return Err("unexpected eof token");
      case Tok::kNumber: {
        auto v = ParseNumber(tok.text);
        if (!v) return v.error();
        Next();
        return MakeValueTerm(*v, loc);
      }
      case Tok::kString: {
        std::string s = tok.text;
        Next();
        return MakeValueTerm(Value::String(std::move(s)), loc);
      }
      case Tok::kTemplate: {
        auto t = ParseTemplate(tok, loc);
        Next();
        return t;
      }
      case Tok::kIdent: {
        const std::string& s = tok.text;
        if ((s == "true" || s == "false") && !NextIsDot()) {
          Next();
          return MakeValueTerm(Value::Bool(s == "true"), loc);
        }
        if (s == "null" && !NextIsDot()) {
          Next();
          return MakeValueTerm(Value::Null(), loc);
        }
        if (s == "set" && IsPunctAt(1, "(") && Peek(2).kind == Tok::kPunct && Peek(2).text == ")") {
          Next();
          Next();
          Next();
          return MakeValueTerm(Value::FromSet({}), loc);
        }
        bool call = IsPunctAt(1, "(") && s == "contains";  // contains() is a built-in
        if (IsKeyword(s) && !NextIsDot() && !call) return Err("unexpected " + s + " keyword");
        std::string name = s;
        Next();
        auto v = MakeVar(name, loc);
        if (name == "_") v->wildcard = true;
        return v;
      }
      case Tok::kPunct:
        break;
    }
    if (IsPunct("(")) {
      FlagGuard bar(no_bar_, false);
      Next();
      depth_++;
      auto t = ParseMember3OrExpr();
      depth_--;
      if (!t) return t.error();
      if (auto st = Expect(")"); !st) return st.error();
      return t;
    }
    if (IsPunct("[")) return ParseArray(loc);
    if (IsPunct("{")) return ParseBrace(loc);
    return Err("unexpected " + Describe(tok) + " token");
  }

  // The first element of a bracket literal, which may be a comprehension head.
  Result<TermPtr> HeadTerm() {
    bool saved = no_bar_;
    no_bar_ = true;
    auto t = ParseExprTerm();
    no_bar_ = saved;
    return t;
  }

  Result<TermPtr> ParseArray(Location loc) {
    FlagGuard bar(no_bar_, false);
    Next();
    depth_++;
    auto arr = std::make_shared<Term>();
    arr->kind = TermKind::kArray;
    arr->loc = loc;
    if (IsPunct("]")) {
      Next();
      depth_--;
      return FoldComposite(arr);
    }
    Result<TermPtr> first = HeadTerm();
    if (!first) return first.error();
    if (IsPunct("|")) {
      Next();
      auto body = ParseComprBody("]");
      if (!body) return body.error();
      depth_--;
      auto c = std::make_shared<Term>();
      c->kind = TermKind::kArrayCompr;
      c->loc = loc;
      c->head = *first;
      c->body = *body;
      return c;
    }
    arr->items.push_back(*first);
    while (IsPunct(",")) {
      Next();
      if (IsPunct("]")) break;
      auto e = ParseExprTerm();
      if (!e) return e.error();
      arr->items.push_back(*e);
    }
    if (auto st = Expect("]"); !st) return st.error();
    depth_--;
    return FoldComposite(arr);
  }

  // { } object or set, or comprehension.
  Result<TermPtr> ParseBrace(Location loc) {
    FlagGuard bar(no_bar_, false);
    Next();
    depth_++;
    if (IsPunct("}")) {
      Next();
      depth_--;
      return MakeValueTerm(Value::EmptyObject(), loc);
    }
    Result<TermPtr> first = HeadTerm();
    if (!first) return first.error();
    if (IsPunct(":")) {
      Next();
      Result<TermPtr> val = HeadTerm();
      if (!val) return val.error();
      if (IsPunct("|")) {
        Next();
        auto body = ParseComprBody("}");
        if (!body) return body.error();
        depth_--;
        auto c = std::make_shared<Term>();
        c->kind = TermKind::kObjectCompr;
        c->loc = loc;
        c->key = *first;
        c->head = *val;
        c->body = *body;
        return c;
      }
      auto obj = std::make_shared<Term>();
      obj->kind = TermKind::kObject;
      obj->loc = loc;
      obj->items = {*first, *val};
      while (IsPunct(",")) {
        Next();
        if (IsPunct("}")) break;
        auto k = ParseExprTerm();
        if (!k) return k.error();
        if (auto st = Expect(":"); !st) return st.error();
        auto v = ParseExprTerm();
        if (!v) return v.error();
        obj->items.push_back(*k);
        obj->items.push_back(*v);
      }
      if (auto st = Expect("}"); !st) return st.error();
      depth_--;
      return FoldComposite(obj);
    }
    if (IsPunct("|")) {
      Next();
      auto body = ParseComprBody("}");
      if (!body) return body.error();
      depth_--;
      auto c = std::make_shared<Term>();
      c->kind = TermKind::kSetCompr;
      c->loc = loc;
      c->head = *first;
      c->body = *body;
      return c;
    }
    auto set = std::make_shared<Term>();
    set->kind = TermKind::kSet;
    set->loc = loc;
    set->items.push_back(*first);
    while (IsPunct(",")) {
      Next();
      if (IsPunct("}")) break;
      auto e = ParseExprTerm();
      if (!e) return e.error();
      set->items.push_back(*e);
    }
    if (auto st = Expect("}"); !st) return st.error();
    depth_--;
    return FoldComposite(set);
  }

  // The body of a comprehension, up to the closing bracket; newlines separate expressions.
  Result<BodyPtr> ParseComprBody(const char* close) {
    int saved = depth_;
    depth_ = 0;
    auto body = std::make_shared<Body>();
    while (!IsPunct(close)) {
      if (Cur().kind == Tok::kEof) return Err("unexpected eof token");
      if (IsPunct(";")) {
        Next();
        continue;
      }
      auto e = ParseLiteral();
      if (!e) return e.error();
      body->push_back(std::move(*e));
      if (!IsPunct(close) && !IsPunct(";") && !Cur().nl_before) {
        return Err("unexpected " + Describe(Cur()) + " token");
      }
    }
    Next();
    depth_ = saved;
    if (body->empty()) return Err("found empty body");
    return body;
  }

  // $"text {expr} text": literal parts and embedded terms, evaluated by the evaluator.
  Result<TermPtr> ParseTemplate(const Token& tok, Location loc) {
    auto t = std::make_shared<Term>();
    t->kind = TermKind::kTemplate;
    t->loc = loc;
    const std::string& s = tok.text;
    std::string lit;
    size_t i = 0;
    auto flush = [&] {
      t->items.push_back(MakeValueTerm(Value::String(lit), loc));
      lit.clear();
    };
    while (i < s.size()) {
      char c = s[i];
      if (!tok.raw_template && c == '\\' && i + 1 < s.size()) {
        char e = s[i + 1];
        i += 2;
        switch (e) {
          case 'n':
            lit.push_back('\n');
            break;
          case 't':
            lit.push_back('\t');
            break;
          case 'r':
            lit.push_back('\r');
            break;
          case '"':
            lit.push_back('"');
            break;
          case '\\':
            lit.push_back('\\');
            break;
          case '{':
            lit.push_back('{');
            break;
          case '}':
            lit.push_back('}');
            break;
          case '/':
            lit.push_back('/');
            break;
          default:
            return Err(std::string("illegal escape sequence \\") + e);
        }
        continue;
      }
      if (c == '{') {
        int depth = 1;
        size_t j = i + 1;
        bool in_str = false;
        for (; j < s.size(); ++j) {
          if (in_str) {
            if (s[j] == '\\') {
              ++j;
            } else if (s[j] == '"') {
              in_str = false;
            }
            continue;
          }
          if (s[j] == '"') in_str = true;
          if (s[j] == '{') depth++;
          if (s[j] == '}' && --depth == 0) break;
        }
        if (j >= s.size()) return Err("unterminated template expression");
        std::string inner = s.substr(i + 1, j - i - 1);
        Lexer lx(inner);
        auto toks = lx.Run();
        if (!toks) return Err(toks.error().message);
        Parser sub(std::move(*toks), file_);
        sub.depth_ = 1;
        auto expr = sub.ParseLiteral();
        if (!expr) return expr.error();
        if (sub.Cur().kind != Tok::kEof) return Err("unexpected token in template expression");
        TermPtr term = expr->lhs;
        if (expr->kind != ExprKind::kTerm || expr->negated || !expr->withs.empty()) {
          // An expression with `with` (or another non-term form): evaluated as
          // [__tmpl | __tmpl := <expr>] and unwrapped to its single value.
          auto head = MakeVar("__tmpl", loc);
          Expr assign = std::move(*expr);
          if (assign.kind == ExprKind::kTerm && !assign.negated) {
            assign.kind = ExprKind::kAssign;
            assign.rhs = assign.lhs;
            assign.lhs = MakeVar("__tmpl", loc);
          } else {
            return Err("unsupported expression in template string");
          }
          auto c = std::make_shared<Term>();
          c->kind = TermKind::kArrayCompr;
          c->loc = loc;
          c->head = head;
          c->body = std::make_shared<Body>();
          c->body->push_back(std::move(assign));
          c->template_unwrap = true;
          term = c;
        }
        flush();
        t->items.push_back(term);
        i = j + 1;
        continue;
      }
      lit.push_back(c);
      ++i;
    }
    flush();
    return t;
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  const std::string* file_;
  int depth_ = 0;        // bracket nesting: newlines inside brackets do not end expressions
  bool no_bar_ = false;  // parsing a comprehension head: '|' ends it instead of meaning union
};

}  // namespace

Result<std::shared_ptr<Module>> ParseModule(const std::string& filename, const std::string& text) {
  auto m = std::make_shared<Module>();
  m->filename = filename;
  Lexer lx(text);
  auto toks = lx.Run();
  if (!toks) {
    return MakeError(filename + ":" + toks.error().message, kParseError);
  }
  Parser p(std::move(*toks), &m->filename);
  return p.ParseModule(m);
}

Result<BodyPtr> ParseQuery(const std::string& text) {
  static const std::string kQueryFile = "query";
  Lexer lx(text);
  auto toks = lx.Run();
  if (!toks) return MakeError("query:" + toks.error().message, kParseError);
  Parser p(std::move(*toks), &kQueryFile);
  return p.ParseQueryBody();
}

}  // namespace mcpgw::rego
