// Diagnostics: stable ids, the JSON pointer of the field, the column inside an expression, and the
// file:line:column that a person can jump to. Collected, never thrown, so one check reports every error.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flowd {

enum class DiagId : std::uint16_t {
#define X(name, code, summary) name,
#include "support/diagnostic_ids.def"
#undef X
};

std::string_view diag_code(DiagId id);
std::string_view diag_summary(DiagId id);

enum class Severity : std::uint8_t { Error, Warning };

struct Diagnostic {
  DiagId id{};
  Severity severity = Severity::Error;
  std::string message;
  std::string pointer;       // JSON pointer of the field ("" = whole document)
  int expr_offset = -1;      // byte offset inside the expression string, -1 if not in an expression
  int expr_length = 1;       // bytes to underline inside the expression
  std::string expr_text;     // the expression, for the caret line
  int line = 0;              // 1-based position in the file, 0 if unknown
  int column = 0;
  std::string line_text;     // the file's line, for a caret under `column` when not in an expression
  // A second place that explains the error ("file:line:col: note: ..."), such as the comma that a
  // JSON syntax error is really about.
  struct Note {
    std::string message;
    int line = 0;
    int column = 0;
    std::string line_text;
  };
  std::vector<Note> notes;
};

class SourceIndex;

class Diagnostics {
 public:
  Diagnostic& error(DiagId id, std::string pointer, std::string message);
  Diagnostic& warning(DiagId id, std::string pointer, std::string message);
  // An error inside an expression string found at `pointer`.
  Diagnostic& expr_error(DiagId id, std::string pointer, std::string_view expr, int offset, int length,
                         std::string message);

  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }
  int warning_count() const { return static_cast<int>(list_.size()) - errors_; }
  const std::vector<Diagnostic>& list() const { return list_; }

  // Fills line/column of every diagnostic from the file's text.
  void resolve_positions(const SourceIndex& index);
  // "file:line:col: error E202: message" plus the pointer and a caret line under the expression.
  std::string format(std::string_view file) const;

 private:
  std::vector<Diagnostic> list_;
  int errors_ = 0;
};

// Maps JSON pointers to positions in the raw text. Built lazily: only needed when reporting.
class SourceIndex {
 public:
  explicit SourceIndex(std::string_view text) : text_(text) {}
  struct Pos { int line = 0; int column = 0; };
  // Position of the value at `pointer`; if it is a string and expr_offset >= 0, the position of that
  // byte of the decoded string (escapes accounted for).
  Pos locate(std::string_view pointer, int expr_offset = -1) const;
  Pos position_of_offset(std::size_t offset) const;

 private:
  void build() const;
  std::string_view text_;
  mutable bool built_ = false;
  mutable std::unordered_map<std::string, std::size_t> values_;  // pointer -> offset of value
  mutable std::vector<std::size_t> line_starts_;
};

// One excerpt line and its caret line ("    | text\n    |   ^~~\n") under bytes [offset, offset+length)
// of `text`. Control characters are shown escaped (\r, \n, \t, \xNN), unless keep_tabs, and a long
// text is cut to a window around the caret, so every excerpt is one readable line.
std::string excerpt_lines(std::string_view text, int offset, int length, bool keep_tabs = false);

// "a/b~c" -> "a~1b~0c": one reference token of a JSON pointer (RFC 6901).
std::string escape_pointer_token(std::string_view key);

// Levenshtein-based "did you mean" helper; returns "" when nothing is close.
std::string closest_name(std::string_view wanted, const std::vector<std::string>& candidates);

}  // namespace flowd
