#include "flow/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "flow/module_compiler.hpp"

namespace flowd {

namespace {

// Finds the first place where arrays/objects nest deeper than the limit (strings skipped).
std::size_t find_too_deep(std::string_view t, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > limit) return i;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::string_view::npos;
}

std::string clean_json_error(const std::string& what) {
  // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error while parsing ..."
  std::string m = what;
  auto colon = m.find(": ", m.find("parse error"));
  if (colon != std::string::npos) m = m.substr(colon + 2);
  if (m.rfind("syntax error while parsing ", 0) == 0) m = "invalid JSON while parsing " + m.substr(27);
  return m;
}

// The line of `text` that holds byte `at`, without its line break.
std::string line_at(std::string_view text, std::size_t at) {
  std::size_t start = at == 0 ? 0 : text.rfind('\n', at - 1);
  start = start == std::string_view::npos || at == 0 ? 0 : start + 1;
  std::size_t end = text.find('\n', at);
  std::string line(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Offset of the first byte of the JSON token whose last byte is at `last` (a string, a number, a
// literal or one punctuation character).
std::size_t token_start(std::string_view t, std::size_t last) {
  if (t[last] == '"') {
    // Back to the opening quote: the first quote before it that no backslash escapes.
    for (std::size_t i = last; i-- > 0;) {
      if (t[i] != '"') continue;
      std::size_t slashes = 0;
      while (i > slashes && t[i - 1 - slashes] == '\\') ++slashes;
      if (slashes % 2 == 0) return i;
    }
    return last;
  }
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-'; };
  std::size_t i = last;
  if (word(t[i]))
    while (i > 0 && word(t[i - 1])) --i;
  return i;
}

// nlohmann reports a trailing or missing comma at the token after it: find the comma (or where it
// belongs) so the error can be reported there. Returns the offset and the message, or npos.
std::pair<std::size_t, std::string> find_comma_mistake(std::string_view t, std::size_t at, const std::string& what) {
  if (at >= t.size()) return {std::string_view::npos, ""};
  std::size_t start = token_start(t, at);
  std::size_t before = start;
  while (before > 0 && is_json_space(t[before - 1])) --before;
  if (before == 0) return {std::string_view::npos, ""};
  char prev = t[before - 1];
  char c = t[start];
  if ((c == '}' || c == ']') && prev == ',')
    return {before - 1, std::string("a trailing comma before '") + c + "': JSON allows none after the last " +
                            (c == '}' ? "member of an object" : "element of a list") + "; remove it"};
  bool value_start = c == '"' || c == '{' || c == '[' || c == '-' || std::isalnum(static_cast<unsigned char>(c));
  bool after_value = prev == '"' || prev == '}' || prev == ']' || std::isalnum(static_cast<unsigned char>(prev));
  if (value_start && after_value) {
    if (what.find("expected '}'") != std::string::npos)
      return {before, "a comma is missing here: a ',' must separate the members of an object"};
    if (what.find("expected ']'") != std::string::npos)
      return {before, "a comma is missing here: a ',' must separate the elements of a list"};
  }
  return {std::string_view::npos, ""};
}

}  // namespace

LoadResult load_flow_text(std::string text, const std::string& file_name, const NodeRegistry& registry) {
  LoadResult r;
  r.text = std::move(text);
  if (r.text.size() > kMaxFlowFileBytes) {
    r.diags.error(DiagId::FileTooLarge, "",
                  "the flow file is " + std::to_string(r.text.size()) + " bytes; the limit is " +
                      std::to_string(kMaxFlowFileBytes) + " bytes (kMaxFlowFileBytes)");
    return r;
  }
  SourceIndex index(r.text);
  if (std::size_t at = find_too_deep(r.text, kMaxJsonDepth); at != std::string_view::npos) {
    auto& d = r.diags.error(DiagId::JsonTooDeep, "",
                            "the flow nests deeper than " + std::to_string(kMaxJsonDepth) + " levels (kMaxJsonDepth)");
    auto pos = index.position_of_offset(at);
    d.line = pos.line;
    d.column = pos.column;
    return r;
  }
  Json root;
  try {
    root = Json::parse(r.text);
  } catch (const Json::parse_error& e) {
    std::size_t at = std::min(e.byte > 0 ? e.byte - 1 : 0, r.text.size());
    std::string what = clean_json_error(e.what());
    auto pos = index.position_of_offset(at);
    // nlohmann reports a comma mistake at the next token: the error names the comma, at the comma (or
    // where it belongs), and a note shows where the parser stopped.
    if (auto [comma, message] = find_comma_mistake(r.text, at, what); comma != std::string_view::npos) {
      auto& d = r.diags.error(DiagId::JsonSyntax, "", message);
      auto cpos = index.position_of_offset(comma);
      d.line = cpos.line;
      d.column = cpos.column;
      d.line_text = line_at(r.text, comma);
      d.notes.push_back({"the JSON parser stopped here: " + what, pos.line, pos.column, line_at(r.text, at)});
      return r;
    }
    auto& d = r.diags.error(DiagId::JsonSyntax, "", what);
    d.line = pos.line;
    d.column = pos.column;
    d.line_text = line_at(r.text, at);
    return r;
  } catch (const Json::exception& e) {
    // Valid JSON syntax that nlohmann cannot hold, e.g. a number too large for a double (found by
    // fuzz_flow_loader): reported, never thrown out of the loader.
    std::string what = e.what();
    auto close = what.find("] ");
    auto& d = r.diags.error(DiagId::JsonSyntax, "", close == std::string::npos ? what : what.substr(close + 2));
    // The message quotes the offending text: point at it.
    auto q1 = what.find('\'');
    auto q2 = q1 == std::string::npos ? q1 : what.find('\'', q1 + 1);
    if (q2 != std::string::npos) {
      auto at = r.text.find(what.substr(q1 + 1, q2 - q1 - 1));
      if (at != std::string::npos) {
        auto pos = index.position_of_offset(at);
        d.line = pos.line;
        d.column = pos.column;
      }
    }
    return r;
  }
  if (!root.is_object()) {
    r.diags.error(DiagId::WrongFieldType, "", "a flow must be a JSON object");
    return r;
  }
  r.program = std::make_unique<Program>();
  Program& p = *r.program;
  p.file = file_name;
  if (auto it = root.find("name"); it != root.end() && it->is_string()) p.module = it->get<std::string>();
  else p.module = std::filesystem::path(file_name).stem().string();
  // The module name is written unquoted in log lines (module=chat): keep it to a safe alphabet.
  bool safe = !p.module.empty() && std::all_of(p.module.begin(), p.module.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/';
  });
  if (!safe) {
    if (root.contains("name"))
      r.diags.error(DiagId::BadName, "/name", "the flow's name appears in log lines: use letters, digits, _ - . or /");
    else
      p.module = "flow";
  }
  ModuleCompiler(p, r.diags, registry, root).run();
  r.diags.resolve_positions(index);
  for (auto& s : p.sites) {
    auto pos = index.locate(s.pointer);
    s.line = pos.line;
    s.column = pos.column;
  }
  return r;
}

LoadResult load_flow_file(const std::string& path, const NodeRegistry& registry) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    LoadResult r;
    r.diags.error(DiagId::FileUnreadable, "", "cannot read the flow file: it is a directory");
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diags.error(DiagId::FileUnreadable, "", std::string("cannot read the flow file: ") + std::strerror(errno));
    return r;
  }
  // The size first, so a huge file is refused without loading it (and no buffer is over-sized).
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) size = 0;
  if (static_cast<std::size_t>(size) > kMaxFlowFileBytes) {
    LoadResult r;
    r.diags.error(DiagId::FileTooLarge, "", "the flow file is " + std::to_string(size) + " bytes; the limit is " +
                                                std::to_string(kMaxFlowFileBytes) + " bytes (kMaxFlowFileBytes)");
    return r;
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), size);
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) {
    LoadResult r;
    r.diags.error(DiagId::FileUnreadable, "", std::string("cannot read the flow file: ") + std::strerror(errno));
    return r;
  }
  return load_flow_text(std::move(text), path, registry);
}

}  // namespace flowd
