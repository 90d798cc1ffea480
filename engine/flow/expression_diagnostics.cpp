// How expression errors are reported: the column inside the expression, a hint for the usual
// syntax mistakes, and type mismatches named in the flow's own terms.
#include "flow/compiler.hpp"
#include "lang/parser.hpp"

namespace flowd {

namespace {
// `text` as it is written inside a JSON string: "\"Hi!\"".
std::string as_json_string(std::string_view text) { return Json(std::string(text)).dump(); }

// The JSON escapes (\r\n) that put these control characters into the expression.
std::string json_escapes(std::string_view control) {
  std::string out;
  for (char ch : control) {
    switch (ch) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        auto u = static_cast<unsigned char>(ch);
        out += std::string("\\u00") + kHex[u >> 4] + kHex[u & 15];
      }
    }
  }
  return out;
}

bool is_control(char ch) { return static_cast<unsigned char>(ch) < 0x20 && ch != ' '; }

// A hint for the mistakes people make writing an expression inside a JSON string, or "". May move
// the caret of `e` onto the characters the hint is about.
std::string syntax_hint(std::string_view src, ParseError& e) {
  auto at = static_cast<std::size_t>(std::clamp(e.pos, 0, static_cast<int>(src.size())));
  // A JSON escape such as \r\n put a real line break into a string literal.
  if (e.message == "unterminated string literal") {
    auto brk = src.find('\n', at);
    if (brk != std::string_view::npos) {
      std::size_t from = brk, to = brk + 1;
      while (from > at + 1 && is_control(src[from - 1]) && src[from - 1] != '\t') --from;
      while (to < src.size() && is_control(src[to]) && src[to] != '\t') ++to;
      e.pos = static_cast<int>(from);
      e.len = static_cast<int>(to - from);
      std::string escapes = json_escapes(src.substr(from, to - from));
      std::string twice;
      for (char ch : escapes) twice += ch == '\\' ? std::string("\\\\") : std::string(1, ch);
      return ": JSON turned " + escapes + " into a real line break; write " + twice + " inside the expression";
    }
  }
  bool quoted = src.find('"') != std::string_view::npos || src.find('`') != std::string_view::npos;
  if (quoted || e.message.rfind("unexpected", 0) != 0) return "";
  if (src.find("${") != std::string_view::npos)
    return "; a template is written in backticks after string: " + as_json_string("string `" + std::string(src) + "`");
  return "; if this is text, a string is written with its quotes inside the JSON string: " +
         as_json_string("\"" + std::string(src) + "\"");
}
}  // namespace

void FunctionCompiler::syntax_error(ExprCtx& c, const ParseError& e) {
  if (e.overflow) {
    error_span(c, DiagId::ConstantOverflow, e.pos, e.len, e.message);
    return;
  }
  ParseError shown = e;
  std::string hint = syntax_hint(c.src, shown);
  error_span(c, DiagId::ExprSyntax, shown.pos, shown.len, shown.message + hint);
}

void FunctionCompiler::error_span(ExprCtx& c, DiagId id, int pos, int len, std::string msg) {
  diags().expr_error(id, c.pointer, c.src, pos, len, std::move(msg));
}

void FunctionCompiler::error_at(ExprCtx& c, DiagId id, const Expr& e, std::string msg) {
  error_span(c, id, e.pos, e.len, std::move(msg));
}

void FunctionCompiler::mismatch(ExprCtx& c, const Expr& e, const Type* got, const Type* want, std::string_view what) {
  std::string msg = std::string(what) + " must be " + want->name + ", but this is " + got->name;
  if (got->contains(TypeKind::Error) && types().assignable(types().without(got, TypeKind::Error), want))
    msg += " (use check to return the error, or test it with 'is error')";
  else if (want->kind == TypeKind::Array && want->elem->kind == TypeKind::Byte && got->kind == TypeKind::String)
    msg += " (use .toBytes())";
  else if (want->kind == TypeKind::String && got->kind == TypeKind::Array && got->elem->kind == TypeKind::Byte)
    msg += " (use string:fromBytes(...))";
  else if (want->kind == TypeKind::String && TypeTable::is_simple(got))
    msg += " (use .toString())";
  error_at(c, DiagId::TypeMismatch, e, std::move(msg));
}

const Type* FunctionCompiler::resolve_type_in(const std::string& text, ExprCtx& c, int pos) {
  std::string err;
  int epos = 0;
  const Type* t = resolve_type_text(types(), text,
                                    [this](std::string_view n) { return module_.class_type(n); }, err, epos);
  if (!t) error_span(c, DiagId::UnknownType, pos + epos, 1, err);
  return t;
}

}  // namespace flowd
