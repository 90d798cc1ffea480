#include "lang/lexer.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace flowd {

namespace {

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Module prefixes that make `prefix:name` one qualified identifier.
bool is_module_prefix(std::string_view s) {
  return s == "string" || s == "int" || s == "float" || s == "boolean" || s == "byte" || s == "log" ||
         s == "tcp" || s == "error" || s == "array" || s == "map" || s == "value" || s == "lang";
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      Token t = next();
      Tok k = t.kind;
      out.push_back(std::move(t));
      if (k == Tok::End || k == Tok::Error) break;
    }
    return out;
  }

 private:
  char peek(std::size_t o = 0) const { return i_ + o < s_.size() ? s_[i_ + o] : '\0'; }

  Token make(Tok k, int start) {
    Token t;
    t.kind = k;
    t.pos = start;
    t.len = static_cast<int>(i_) - start;
    return t;
  }

  Token error(int start, std::string msg) {
    Token t;
    t.kind = Tok::Error;
    t.pos = start;
    std::size_t end = std::min(i_, s_.size());
    t.len = std::max(1, static_cast<int>(end) - start);
    t.text = std::move(msg);
    return t;
  }

  Token overflow(int start, std::string msg) {
    Token t = error(start, std::move(msg));
    t.overflow = true;
    return t;
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  Token next() {
    skip_ws();
    int start = static_cast<int>(i_);
    if (i_ >= s_.size()) return make(Tok::End, start);
    char c = s_[i_];
    if (is_ident_start(c)) return ident(start);
    if (is_digit(c)) return number(start);
    if (c == '"') return string_lit(start);
    if (c == '`') return error(start, "a string template is written string `...`");
    ++i_;
    switch (c) {
      case '(': return make(Tok::LParen, start);
      case ')': return make(Tok::RParen, start);
      case '[': return make(Tok::LBracket, start);
      case ']': return make(Tok::RBracket, start);
      case '{': return make(Tok::LBrace, start);
      case '}': return make(Tok::RBrace, start);
      case ',': return make(Tok::Comma, start);
      case ':': return make(Tok::Colon, start);
      case '+': return make(Tok::Plus, start);
      case '*': return make(Tok::Star, start);
      case '/': return make(Tok::Slash, start);
      case '%': return make(Tok::Percent, start);
      case '?':
        if (peek() == ':') { ++i_; return make(Tok::Elvis, start); }
        return make(Tok::Question, start);
      case '-':
        if (peek() == '>') { ++i_; return make(Tok::Arrow, start); }
        return make(Tok::Minus, start);
      case '.':
        if (peek() == '.' && peek(1) == '.') { i_ += 2; return make(Tok::DotDotDot, start); }
        if (peek() == '.' && peek(1) == '<') { i_ += 2; return make(Tok::DotDotLt, start); }
        return make(Tok::Dot, start);
      case '!':
        if (peek() == '=') {
          ++i_;
          if (peek() == '=') { ++i_; return make(Tok::NotEqEq, start); }
          return make(Tok::NotEq, start);
        }
        return make(Tok::Bang, start);
      case '=':
        if (peek() == '=') {
          ++i_;
          if (peek() == '=') { ++i_; return make(Tok::EqEqEq, start); }
          return make(Tok::EqEq, start);
        }
        return make(Tok::Assign, start);
      case '<':
        if (peek() == '=') { ++i_; return make(Tok::Le, start); }
        return make(Tok::Lt, start);
      case '>':
        if (peek() == '=') { ++i_; return make(Tok::Ge, start); }
        return make(Tok::Gt, start);
      case '&':
        if (peek() == '&') { ++i_; return make(Tok::AndAnd, start); }
        return error(start, "unexpected '&' (did you mean '&&'?)");
      case '|':
        if (peek() == '|') { ++i_; return make(Tok::OrOr, start); }
        return make(Tok::Pipe, start);
      default:
        break;
    }
    if (static_cast<unsigned char>(c) >= 0x80) return error(start, "unexpected non-ASCII character outside a string");
    return error(start, std::string("unexpected character '") + c + "'");
  }

  Token ident(int start) {
    while (is_ident_char(peek())) ++i_;
    std::string name(s_.substr(static_cast<std::size_t>(start), i_ - static_cast<std::size_t>(start)));
    // `string` followed by a backtick starts a string template.
    if (name == "string") {
      std::size_t save = i_;
      skip_ws();
      if (peek() == '`') return template_lit(start);
      i_ = save;
    }
    if (peek() == ':' && is_ident_start(peek(1)) && is_module_prefix(name)) {
      ++i_;
      while (is_ident_char(peek())) ++i_;
      Token t = make(Tok::QualIdent, start);
      t.text = std::string(s_.substr(static_cast<std::size_t>(start), i_ - static_cast<std::size_t>(start)));
      return t;
    }
    Token t = make(keyword_or_identifier(name), start);
    t.text = std::move(name);
    return t;
  }

  Token number(int start) {
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      i_ += 2;
      std::size_t digits = i_;
      while (std::isxdigit(static_cast<unsigned char>(peek()))) ++i_;
      if (i_ == digits) return error(start, "a hexadecimal literal needs digits after 0x");
      std::uint64_t v = 0;
      auto r = std::from_chars(s_.data() + digits, s_.data() + i_, v, 16);
      if (r.ec != std::errc() || v > static_cast<std::uint64_t>(INT64_MAX)) return overflow(start, "integer literal out of range");
      Token t = make(Tok::IntLit, start);
      t.ival = static_cast<std::int64_t>(v);
      return t;
    }
    while (is_digit(peek())) ++i_;
    bool is_float = false;
    if (peek() == '.' && is_digit(peek(1))) {
      is_float = true;
      ++i_;
      while (is_digit(peek())) ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      std::size_t save = i_;
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (is_digit(peek())) {
        is_float = true;
        while (is_digit(peek())) ++i_;
      } else {
        i_ = save;
      }
    }
    std::string text(s_.substr(static_cast<std::size_t>(start), i_ - static_cast<std::size_t>(start)));
    if (peek() == 'f' || peek() == 'd' || peek() == 'F' || peek() == 'D') {
      ++i_;
      is_float = true;
    }
    if (is_ident_start(peek())) return error(start, "a number cannot be followed by a letter");
    if (is_float) {
      Token t = make(Tok::FloatLit, start);
      t.fval = std::strtod(text.c_str(), nullptr);
      if (std::isinf(t.fval)) return overflow(start, "float literal out of range");
      return t;
    }
    std::int64_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc()) return overflow(start, "integer literal out of range");
    Token t = make(Tok::IntLit, start);
    t.ival = v;
    return t;
  }

  Token string_lit(int start) {
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_];
      if (c == '\n') return error(start, "unterminated string literal");
      if (c != '\\') {
        out += c;
        ++i_;
        continue;
      }
      int esc_at = static_cast<int>(i_);
      if (i_ + 1 >= s_.size()) {
        ++i_;
        return error(start, "unterminated string literal");
      }
      ++i_;
      char e = peek();
      ++i_;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case '\'': out += '\''; break;
        case '0': out += '\0'; break;
        case 'u': {
          if (peek() != '{') return error(esc_at, "a unicode escape is written \\u{XXXX}");
          ++i_;
          std::size_t hs = i_;
          while (std::isxdigit(static_cast<unsigned char>(peek()))) ++i_;
          std::uint32_t cp = 0;
          auto r = std::from_chars(s_.data() + hs, s_.data() + i_, cp, 16);
          if (peek() != '}' || hs == i_ || r.ec != std::errc() || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return error(esc_at, "invalid unicode escape");
          ++i_;
          append_utf8(out, cp);
          break;
        }
        default:
          i_ = static_cast<std::size_t>(esc_at) + 2;
          if (static_cast<unsigned char>(e) < 0x20 || static_cast<unsigned char>(e) >= 0x7f)
            return error(esc_at, "unknown escape sequence (a backslash before a control or non-ASCII character)");
          return error(esc_at, std::string("unknown escape sequence '\\") + e + "'");
      }
    }
    if (i_ >= s_.size()) return error(start, "unterminated string literal");
    ++i_;
    Token t = make(Tok::StringLit, start);
    t.text = std::move(out);
    return t;
  }

  // Raw content up to the closing backtick; `${ ... }` may contain nested strings and braces.
  Token template_lit(int start) {
    ++i_;  // backtick
    int content = static_cast<int>(i_);
    while (i_ < s_.size() && s_[i_] != '`') {
      if (s_[i_] == '$' && peek(1) == '{') {
        i_ += 2;
        int depth = 1;
        while (i_ < s_.size() && depth > 0) {
          char c = s_[i_];
          if (c == '"') {
            ++i_;
            while (i_ < s_.size() && s_[i_] != '"') i_ += (s_[i_] == '\\') ? 2 : 1;
          } else if (c == '{') {
            ++depth;
          } else if (c == '}') {
            --depth;
          }
          ++i_;
        }
        if (depth > 0) return error(start, "unterminated ${ in string template");
        continue;
      }
      ++i_;
    }
    if (i_ >= s_.size()) return error(start, "unterminated string template (missing closing `)");
    Token t = make(Tok::Template, start);
    t.text = std::string(s_.substr(static_cast<std::size_t>(content), i_ - static_cast<std::size_t>(content)));
    t.content_pos = content;
    ++i_;
    t.len = static_cast<int>(i_) - start;
    return t;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::vector<Token> lex_expression(std::string_view src) { return Lexer(src).run(); }

const char* token_name(Tok t) {
  switch (t) {
#define TOKEN(name, description) case Tok::name: return description;
#define PUNCT(name, spelling) case Tok::name: return "'" spelling "'";
#define KEYWORD(name, spelling) case Tok::name: return "'" spelling "'";
#include "lang/tokens.def"
#undef TOKEN
#undef PUNCT
#undef KEYWORD
  }
  return "?";
}

const char* token_spelling(Tok t) {
  switch (t) {
#define TOKEN(name, description) case Tok::name: return "";
#define PUNCT(name, spelling) case Tok::name: return spelling;
#define KEYWORD(name, spelling) case Tok::name: return spelling;
#include "lang/tokens.def"
#undef TOKEN
#undef PUNCT
#undef KEYWORD
  }
  return "";
}

Tok keyword_or_identifier(std::string_view name) {
#define TOKEN(name, description)
#define PUNCT(name, spelling)
#define KEYWORD(kind, spelling) if (name == spelling) return Tok::kind;
#include "lang/tokens.def"
#undef TOKEN
#undef PUNCT
#undef KEYWORD
  return Tok::Ident;
}

}  // namespace flowd
