#include "lang/parser.hpp"

#include <utility>

namespace flowd {

namespace {

// Binding powers, loosest first (Ballerina's precedence for the operators we have).
enum Prec : int {
  kNone = 0,
  kConditional = 1,  // ?: and c ? a : b (right associative)
  kOr = 2,
  kAnd = 3,
  kEquality = 4,
  kRelational = 5,   // < <= > >= is
  kRange = 6,        // ... ..<
  kAdditive = 7,
  kMultiplicative = 8,
  kUnary = 9,
};

int infix_prec(Tok t) {
  switch (t) {
    case Tok::Question:
    case Tok::Elvis: return kConditional;
    case Tok::OrOr: return kOr;
    case Tok::AndAnd: return kAnd;
    case Tok::EqEq:
    case Tok::NotEq:
    case Tok::EqEqEq:
    case Tok::NotEqEq: return kEquality;
    case Tok::Lt:
    case Tok::Le:
    case Tok::Gt:
    case Tok::Ge:
    case Tok::KwIs: return kRelational;
    case Tok::DotDotDot:
    case Tok::DotDotLt: return kRange;
    case Tok::Plus:
    case Tok::Minus: return kAdditive;
    case Tok::Star:
    case Tok::Slash:
    case Tok::Percent: return kMultiplicative;
    default: return kNone;
  }
}

struct Bail {};  // unwinds to the entry point after the first syntax error

class Parser {
 public:
  Parser(std::string_view src, int base) : src_(src), base_(base) {
    toks_ = lex_expression(src);
    for (auto& t : toks_) {
      t.pos += base;
      t.content_pos += base;
    }
  }

  ParseResult parse_all() {
    in_expression_ = true;
    ParseResult r;
    try {
      if (cur().kind == Tok::End) fail(cur(), "empty expression");
      ExprPtr e = expression(kNone + 1);
      if (cur().kind != Tok::End) fail(cur(), std::string("unexpected ") + describe(cur()) + " after the expression");
      r.expr = std::move(e);
    } catch (const Bail&) {
      r.error = error_;
    }
    return r;
  }

  TypeParseResult parse_type_all() {
    TypeParseResult r;
    try {
      if (cur().kind == Tok::End) fail(cur(), "empty type");
      TypeSyntax t = type();
      if (cur().kind != Tok::End) fail(cur(), std::string("unexpected ") + describe(cur()) + " after the type");
      r.type = std::move(t);
    } catch (const Bail&) {
      r.error = error_;
    }
    return r;
  }

  // Used for `is` and casts inside an expression: parse a type from the current token stream.
  TypeSyntax type() {
    TypeSyntax first = type_postfix();
    if (cur().kind != Tok::Pipe) return first;
    TypeSyntax u;
    u.kind = TypeSyntax::Kind::Union;
    u.pos = first.pos;
    u.args.push_back(std::move(first));
    while (cur().kind == Tok::Pipe) {
      advance();
      u.args.push_back(type_postfix());
    }
    u.len = prev_end() - u.pos;
    return u;
  }

 private:
  const Token& cur() const { return toks_[i_]; }
  const Token& peek(std::size_t o = 1) const { return toks_[std::min(i_ + o, toks_.size() - 1)]; }
  const Token& advance() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  int prev_end() const {
    if (i_ == 0) return base_;
    const Token& p = toks_[i_ - 1];
    return p.pos + p.len;
  }

  [[noreturn]] void fail(const Token& at, std::string msg) {
    if (at.kind == Tok::Error) msg = at.text;
    error_ = ParseError{at.pos - base_, std::max(1, at.len), std::move(msg), at.kind == Tok::Error && at.overflow};
    throw Bail{};
  }
  [[noreturn]] void fail_at(int pos, int len, std::string msg) {
    error_ = ParseError{pos - base_, std::max(1, len), std::move(msg)};
    throw Bail{};
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::Ident: return "'" + t.text + "'";
      case Tok::QualIdent: return "'" + t.text + "'";
      default: return token_name(t.kind);
    }
  }

  // "expected ')' closing the list": the token as the token table names it, then where it belongs.
  void expect(Tok k, const char* context = nullptr) {
    if (cur().kind != k)
      fail(cur(), std::string("expected ") + token_name(k) + (context ? std::string(" ") + context : "") +
                      ", found " + describe(cur()));
    advance();
  }

  ExprPtr node(ExprKind k, int pos) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->pos = pos - base_;
    return e;
  }
  // Also bounds the tree's depth: left-associative chains (a + b + c ..., a.b().c()...) deepen the
  // tree without nesting in the text, and the checker and destructor recurse over it.
  void finish(Expr& e) {
    e.len = std::max(1, prev_end() - base_ - e.pos);
    int d = 0;
    for (const auto& k : e.kids) d = std::max(d, k->depth);
    e.depth = d + 1;
    if (e.depth > kMaxExpressionTreeDepth)
      fail_at(e.pos + base_, e.len, "expression is too long: more than " + std::to_string(kMaxExpressionTreeDepth) +
                                        " operators or calls in a chain (kMaxExpressionTreeDepth)");
  }

  ExprPtr expression(int min_prec) {
    if (++depth_ > kMaxExpressionDepth) fail(cur(), "expression nests too deeply");
    ExprPtr left = unary();
    for (;;) {
      Tok op = cur().kind;
      int prec = infix_prec(op);
      if (prec == kNone || prec < min_prec) break;
      const Token& optok = advance();
      int start = left->pos + base_;
      if (op == Tok::KwIs) {
        auto e = node(ExprKind::Is, start);
        e->type_pos = cur().pos - base_;
        int tstart = cur().pos;
        type();
        e->type_text = std::string(src_.substr(static_cast<std::size_t>(tstart - base_),
                                               static_cast<std::size_t>(prev_end() - tstart)));
        e->kids.push_back(std::move(left));
        finish(*e);
        left = std::move(e);
        continue;
      }
      if (op == Tok::Question) {
        auto e = node(ExprKind::Conditional, start);
        e->kids.push_back(std::move(left));
        e->kids.push_back(expression(kConditional));
        expect(Tok::Colon, "of the conditional expression");
        e->kids.push_back(expression(kConditional));
        finish(*e);
        left = std::move(e);
        continue;
      }
      if (op == Tok::Elvis) {
        auto e = node(ExprKind::Elvis, start);
        e->kids.push_back(std::move(left));
        e->kids.push_back(expression(kConditional));
        finish(*e);
        left = std::move(e);
        continue;
      }
      auto e = node(op == Tok::DotDotDot || op == Tok::DotDotLt ? ExprKind::Range : ExprKind::Binary, start);
      e->op = op;
      e->type_pos = optok.pos - base_;  // operator position, for diagnostics
      e->kids.push_back(std::move(left));
      e->kids.push_back(expression(prec + 1));
      finish(*e);
      left = std::move(e);
    }
    --depth_;
    return left;
  }

  ExprPtr unary() {
    const Token& t = cur();
    if (t.kind == Tok::Minus || t.kind == Tok::Bang || t.kind == Tok::Plus) {
      advance();
      if (++depth_ > kMaxExpressionDepth) fail(cur(), "expression nests too deeply");
      ExprPtr operand = unary();
      --depth_;
      if (t.kind == Tok::Plus) return operand;
      auto e = node(ExprKind::Unary, t.pos);
      e->op = t.kind;
      e->kids.push_back(std::move(operand));
      finish(*e);
      return e;
    }
    if (t.kind == Tok::KwCheck) {
      advance();
      if (++depth_ > kMaxExpressionDepth) fail(cur(), "expression nests too deeply");
      auto e = node(ExprKind::Check, t.pos);
      e->kids.push_back(unary());
      --depth_;
      finish(*e);
      return e;
    }
    if (t.kind == Tok::Lt) {  // <T> expr
      advance();
      if (++depth_ > kMaxExpressionDepth) fail(cur(), "expression nests too deeply");
      auto e = node(ExprKind::Cast, t.pos);
      e->type_pos = cur().pos - base_;
      int tstart = cur().pos;
      type();
      e->type_text = std::string(src_.substr(static_cast<std::size_t>(tstart - base_),
                                             static_cast<std::size_t>(prev_end() - tstart)));
      expect(Tok::Gt, "closing the type cast");
      e->kids.push_back(unary());
      --depth_;
      finish(*e);
      return e;
    }
    return postfix(primary());
  }

  std::vector<ExprPtr> call_args() {
    std::vector<ExprPtr> args;
    expect(Tok::LParen);
    if (cur().kind != Tok::RParen) {
      for (;;) {
        args.push_back(expression(kNone + 1));
        if (cur().kind != Tok::Comma) break;
        advance();
      }
    }
    expect(Tok::RParen, "closing the argument list");
    return args;
  }

  ExprPtr postfix(ExprPtr e) {
    for (;;) {
      if (cur().kind == Tok::Dot) {
        advance();
        const Token& nm = cur();
        if (nm.kind != Tok::Ident) fail(nm, "expected a field or method name after '.'");
        advance();
        int start = e->pos + base_;
        if (cur().kind == Tok::LParen) {
          auto m = node(ExprKind::MethodCall, start);
          m->name = nm.text;
          m->type_pos = nm.pos - base_;
          m->kids.push_back(std::move(e));
          for (auto& a : call_args()) m->kids.push_back(std::move(a));
          finish(*m);
          e = std::move(m);
        } else {
          auto f = node(ExprKind::Field, start);
          f->name = nm.text;
          f->type_pos = nm.pos - base_;
          f->kids.push_back(std::move(e));
          finish(*f);
          e = std::move(f);
        }
        continue;
      }
      if (cur().kind == Tok::LBracket) {
        advance();
        auto ix = node(ExprKind::Index, e->pos + base_);
        ix->kids.push_back(std::move(e));
        ix->kids.push_back(expression(kNone + 1));
        expect(Tok::RBracket);
        finish(*ix);
        e = std::move(ix);
        continue;
      }
      return e;
    }
  }

  ExprPtr primary() {
    const Token& t = cur();
    switch (t.kind) {
      case Tok::IntLit: {
        advance();
        auto e = node(ExprKind::IntLit, t.pos);
        e->ival = t.ival;
        finish(*e);
        return e;
      }
      case Tok::FloatLit: {
        advance();
        auto e = node(ExprKind::FloatLit, t.pos);
        e->fval = t.fval;
        finish(*e);
        return e;
      }
      case Tok::StringLit: {
        advance();
        auto e = node(ExprKind::StringLit, t.pos);
        e->sval = t.text;
        finish(*e);
        return e;
      }
      case Tok::KwTrue:
      case Tok::KwFalse: {
        advance();
        auto e = node(ExprKind::BoolLit, t.pos);
        e->bval = t.kind == Tok::KwTrue;
        finish(*e);
        return e;
      }
      case Tok::KwNull: {
        advance();
        auto e = node(ExprKind::NilLit, t.pos);
        finish(*e);
        return e;
      }
      case Tok::Template: return template_expr();
      case Tok::KwSelf: {
        advance();
        auto e = node(ExprKind::Self, t.pos);
        finish(*e);
        return e;
      }
      case Tok::Ident:
      case Tok::QualIdent: {
        advance();
        if (cur().kind == Tok::LParen) {
          auto e = node(ExprKind::Call, t.pos);
          e->name = t.text;
          e->kids = call_args();
          finish(*e);
          return e;
        }
        if (t.kind == Tok::QualIdent) fail(t, "'" + t.text + "' is a function: call it with (...)");
        auto e = node(ExprKind::Name, t.pos);
        e->name = t.text;
        finish(*e);
        return e;
      }
      case Tok::KwNew: {
        advance();
        const Token& cls = cur();
        if (cls.kind != Tok::Ident) fail(cls, "expected a class name after 'new'");
        advance();
        auto e = node(ExprKind::New, t.pos);
        e->name = cls.text;
        e->type_pos = cls.pos - base_;
        if (cur().kind == Tok::LParen) e->kids = call_args();
        finish(*e);
        return e;
      }
      case Tok::LParen: {
        advance();
        if (cur().kind == Tok::RParen) {
          advance();
          auto e = node(ExprKind::NilLit, t.pos);
          finish(*e);
          return e;
        }
        if (++depth_ > kMaxExpressionDepth) fail(cur(), "expression nests too deeply");
        ExprPtr inner = expression(kNone + 1);
        --depth_;
        expect(Tok::RParen);
        return inner;
      }
      case Tok::LBracket: {
        advance();
        auto e = node(ExprKind::ArrayLit, t.pos);
        if (cur().kind != Tok::RBracket) {
          for (;;) {
            e->kids.push_back(expression(kNone + 1));
            if (cur().kind != Tok::Comma) break;
            advance();
          }
        }
        expect(Tok::RBracket, "closing the list");
        finish(*e);
        return e;
      }
      case Tok::LBrace: {
        advance();
        auto e = node(ExprKind::MapLit, t.pos);
        if (cur().kind != Tok::RBrace) {
          for (;;) {
            const Token& k = cur();
            if (k.kind != Tok::Ident && k.kind != Tok::StringLit) fail(k, "expected a key (a name or a string)");
            advance();
            e->strings.push_back(k.text);
            expect(Tok::Colon, "after the key");
            e->kids.push_back(expression(kNone + 1));
            if (cur().kind != Tok::Comma) break;
            advance();
          }
        }
        expect(Tok::RBrace, "closing the map");
        finish(*e);
        return e;
      }
      case Tok::End: fail(t, "the expression ends too early");
      default: fail(t, std::string("unexpected ") + describe(t));
    }
  }

  // string `a ${x} b` : literal pieces and interpolations; each ${...} is parsed as an expression.
  ExprPtr template_expr() {
    const Token& t = advance();
    auto e = node(ExprKind::Template, t.pos);
    const std::string& raw = t.text;
    std::string piece;
    std::size_t i = 0;
    while (i < raw.size()) {
      if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '{') {
        std::size_t start = i + 2;
        std::size_t j = start;
        int depth = 1;
        while (j < raw.size()) {
          if (raw[j] == '"') {
            ++j;
            while (j < raw.size() && raw[j] != '"') j += raw[j] == '\\' ? 2 : 1;
          } else if (raw[j] == '{') {
            ++depth;
          } else if (raw[j] == '}') {
            if (--depth == 0) break;
          }
          ++j;
        }
        int abs = t.content_pos + static_cast<int>(start);
        std::string_view inner(raw.data() + start, j - start);
        if (inner.find_first_not_of(" \t") == std::string_view::npos)
          fail_at(abs - 2, 3, "empty ${} in string template");
        Parser sub(std::string_view(src_.data() + (abs - base_), inner.size()), abs);
        sub.depth_ = depth_ + 1;
        ParseResult r = sub.parse_all();
        if (r.error) {
          error_ = *r.error;
          error_.pos += abs - base_;
          throw Bail{};
        }
        rebase(*r.expr, abs - base_);
        e->strings.push_back(std::move(piece));
        piece.clear();
        e->kids.push_back(std::move(r.expr));
        i = j + 1;
      } else {
        piece += raw[i++];
      }
    }
    e->strings.push_back(std::move(piece));
    finish(*e);
    return e;
  }

  // Sub-parsers report positions relative to their own text; shift them into this expression.
  static void rebase(Expr& e, int delta) {
    e.pos += delta;
    if (e.kind == ExprKind::Is || e.kind == ExprKind::Cast || e.kind == ExprKind::New ||
        e.kind == ExprKind::Field || e.kind == ExprKind::MethodCall || e.kind == ExprKind::Binary ||
        e.kind == ExprKind::Range)
      e.type_pos += delta;
    for (auto& k : e.kids) rebase(*k, delta);
  }

  TypeSyntax type_postfix() {
    TypeSyntax t = type_primary();
    for (;;) {
      if (cur().kind == Tok::LBracket && peek().kind == Tok::RBracket) {
        advance();
        advance();
        TypeSyntax a;
        a.kind = TypeSyntax::Kind::Array;
        a.pos = t.pos;
        a.len = prev_end() - base_ - t.pos;
        a.args.push_back(std::move(t));
        t = std::move(a);
      } else if (cur().kind == Tok::Question && (!in_expression_ || cur().pos == prev_end())) {
        // Inside an expression, `x is int ? a : b` is a conditional: `T?` must be written without a space.
        advance();
        TypeSyntax o;
        o.kind = TypeSyntax::Kind::Optional;
        o.pos = t.pos;
        o.len = prev_end() - base_ - t.pos;
        o.args.push_back(std::move(t));
        t = std::move(o);
      } else {
        return t;
      }
    }
  }

  TypeSyntax type_primary() {
    const Token& t = cur();
    TypeSyntax ts;
    ts.pos = t.pos - base_;
    if (t.kind == Tok::LParen) {
      advance();
      if (cur().kind == Tok::RParen) {
        advance();
        ts.kind = TypeSyntax::Kind::Nil;
        ts.len = 2;
        return ts;
      }
      if (++depth_ > kMaxExpressionDepth) fail(cur(), "type nests too deeply");
      TypeSyntax inner = type();
      --depth_;
      expect(Tok::RParen);
      return inner;
    }
    if (t.kind == Tok::Ident && t.text == "map" && peek().kind == Tok::Lt) {
      advance();
      advance();
      if (++depth_ > kMaxExpressionDepth) fail(cur(), "type nests too deeply");
      TypeSyntax elem = type();
      --depth_;
      expect(Tok::Gt, "closing map<...>");
      ts.kind = TypeSyntax::Kind::Map;
      ts.len = prev_end() - base_ - ts.pos;
      ts.args.push_back(std::move(elem));
      return ts;
    }
    if (t.kind == Tok::Ident || t.kind == Tok::QualIdent) {
      advance();
      ts.kind = TypeSyntax::Kind::Named;
      ts.name = t.text;
      ts.len = t.len;
      return ts;
    }
    fail(t, std::string("expected a type, found ") + describe(t));
  }

  std::string_view src_;
  int base_;
  std::vector<Token> toks_;
  std::size_t i_ = 0;
  int depth_ = 0;
  bool in_expression_ = false;
  ParseError error_;
};

}  // namespace

ParseResult parse_expression(std::string_view source) { return Parser(source, 0).parse_all(); }

TypeParseResult parse_type(std::string_view source) { return Parser(source, 0).parse_type_all(); }

}  // namespace flowd
