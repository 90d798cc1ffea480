#include "support/diagnostics.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace flowd {

namespace {
struct IdInfo { std::string_view code, summary; };
constexpr std::array kIds = {
#define X(name, code, summary) IdInfo{code, summary},
#include "support/diagnostic_ids.def"
#undef X
};
}  // namespace

std::string_view diag_code(DiagId id) { return kIds[static_cast<std::size_t>(id)].code; }
std::string_view diag_summary(DiagId id) { return kIds[static_cast<std::size_t>(id)].summary; }

Diagnostic& Diagnostics::error(DiagId id, std::string pointer, std::string message) {
  ++errors_;
  Diagnostic d;
  d.id = id;
  d.message = std::move(message);
  d.pointer = std::move(pointer);
  return list_.emplace_back(std::move(d));
}

Diagnostic& Diagnostics::warning(DiagId id, std::string pointer, std::string message) {
  Diagnostic d;
  d.id = id;
  d.severity = Severity::Warning;
  d.message = std::move(message);
  d.pointer = std::move(pointer);
  return list_.emplace_back(std::move(d));
}

Diagnostic& Diagnostics::expr_error(DiagId id, std::string pointer, std::string_view expr, int offset,
                                    int length, std::string message) {
  Diagnostic& d = error(id, std::move(pointer), std::move(message));
  d.expr_text = std::string(expr);
  d.expr_offset = std::clamp(offset, 0, static_cast<int>(expr.size()));
  d.expr_length = std::max(1, length);
  return d;
}

void Diagnostics::resolve_positions(const SourceIndex& index) {
  for (auto& d : list_) {
    if (d.line != 0) continue;
    auto pos = index.locate(d.pointer, d.expr_offset);
    d.line = pos.line;
    d.column = pos.column;
  }
}

std::string Diagnostics::format(std::string_view file) const {
  std::string out;
  for (const auto& d : list_) {
    out += file;
    if (d.line > 0) {
      out += ':' + std::to_string(d.line) + ':' + std::to_string(d.column);
    }
    out += d.severity == Severity::Error ? ": error " : ": warning ";
    out += diag_code(d.id);
    out += ": ";
    out += d.message;
    out += '\n';
    if (!d.pointer.empty() || d.expr_offset >= 0) {
      out += "    at ";
      out += d.pointer.empty() ? "/" : d.pointer;
      if (d.expr_offset >= 0) out += ", column " + std::to_string(d.expr_offset + 1) + " of the expression";
      out += '\n';
    }
    if (d.expr_offset >= 0) {
      out += excerpt_lines(d.expr_text, d.expr_offset, d.expr_length);
    } else if (!d.line_text.empty() && d.column > 0) {
      out += excerpt_lines(d.line_text, d.column - 1, 1, true);
    }
    for (const auto& n : d.notes) {
      out += std::string(file) + ':' + std::to_string(n.line) + ':' + std::to_string(n.column) + ": note: " +
             n.message + '\n';
      if (!n.line_text.empty()) out += excerpt_lines(n.line_text, n.column - 1, 1, true);
    }
  }
  return out;
}

namespace {

// How wide an excerpt may be before it is cut to a window around the caret (a terminal's width).
constexpr std::size_t kMaxExcerptColumns = 120;
// Of that window, how much at least comes before the caret (more when the text ends sooner).
constexpr std::size_t kExcerptLead = 50;

// One displayed cell per byte group: a control character as its escape, a UTF-8 sequence as one
// column, anything else as itself.
struct Cell {
  std::string shown;
  std::size_t byte = 0;  // offset of its first byte in the text
};

std::vector<Cell> cells_of(std::string_view text, bool keep_tabs) {
  std::vector<Cell> cells;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80 && !cells.empty()) {  // continuation byte: part of the previous column
      cells.back().shown += static_cast<char>(c);
      continue;
    }
    Cell cell;
    cell.byte = i;
    if (c == '\t' && keep_tabs) cell.shown = "\t";
    else if (c == '\n') cell.shown = "\\n";
    else if (c == '\r') cell.shown = "\\r";
    else if (c == '\t') cell.shown = "\\t";
    else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      cell.shown = std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    } else {
      cell.shown = std::string(1, static_cast<char>(c));
    }
    cells.push_back(std::move(cell));
  }
  return cells;
}

std::size_t width_of(const Cell& c) {
  if (c.shown == "\t") return 1;  // a kept tab: the caret line copies it
  std::size_t w = 0;
  for (char ch : c.shown) w += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return w;
}

}  // namespace

std::string excerpt_lines(std::string_view text, int offset, int length, bool keep_tabs) {
  std::vector<Cell> cells = cells_of(text, keep_tabs);
  std::size_t at = static_cast<std::size_t>(std::max(0, offset));
  std::size_t end = at + static_cast<std::size_t>(std::max(1, length));
  // The cells of the caret: from the one holding byte `at` to the one before byte `end`.
  std::size_t first = cells.size(), last = cells.size();
  for (std::size_t k = 0; k < cells.size(); ++k) {
    std::size_t next = k + 1 < cells.size() ? cells[k + 1].byte : text.size();
    if (first == cells.size() && next > at) first = k;
    if (cells[k].byte < end) last = k;
  }
  std::size_t total = 0;
  for (const auto& c : cells) total += width_of(c);
  // A long text is cut to a window that starts kExcerptLead columns before the caret.
  std::size_t from = 0, to = cells.size();
  if (total > kMaxExcerptColumns) {
    std::size_t lead = 0, rest = 0;
    from = std::min(first, cells.size());
    for (std::size_t k = from; k < cells.size(); ++k) rest += width_of(cells[k]);
    std::size_t budget = std::max(kExcerptLead, rest < kMaxExcerptColumns ? kMaxExcerptColumns - rest : 0);
    while (from > 0 && lead + width_of(cells[from - 1]) <= budget) lead += width_of(cells[--from]);
    std::size_t used = lead;
    to = from;
    while (to < cells.size() && used + width_of(cells[to]) <= kMaxExcerptColumns) used += width_of(cells[to++]);
  }
  std::string shown = "    | ", caret = "    | ";
  if (from > 0) {
    shown += "...";
    caret += "   ";
  }
  for (std::size_t k = from; k < to; ++k) {
    shown += cells[k].shown;
    bool under = k >= first && k <= last && last != cells.size();
    std::size_t w = width_of(cells[k]);
    if (cells[k].shown == "\t") caret += k == first ? "^" : under ? "~" : "\t";
    else if (under) caret += (k == first ? "^" : "~") + std::string(w > 0 ? w - 1 : 0, '~');
    else caret += std::string(w, ' ');
  }
  if (to < cells.size()) shown += "...";
  // A caret past the end (at the end of the text: "the expression ends too early").
  if (first >= cells.size() || first >= to) caret += "^";
  caret.erase(caret.find_last_not_of(' ') + 1);
  return shown + '\n' + caret + '\n';
}

// ---- SourceIndex: a small scanner over text that nlohmann already accepted (or partially accepted).

namespace {

class PositionScanner {
 public:
  PositionScanner(std::string_view t, std::unordered_map<std::string, std::size_t>& out)
      : t_(t), out_(out) {}

  void run() {
    skip_ws();
    std::string ptr;
    value(ptr, 0);
  }

 private:
  static constexpr int kMaxDepth = 256;

  void skip_ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }

  std::string read_string() {
    std::string s;
    ++i_;  // opening quote
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) {
        char e = t_[i_ + 1];
        switch (e) {
          case 'n': s += '\n'; break;
          case 't': s += '\t'; break;
          case 'r': s += '\r'; break;
          case 'b': s += '\b'; break;
          case 'f': s += '\f'; break;
          case 'u': s += '?'; i_ += 4; break;  // keys with \u escapes are rare; the pointer is approximate
          default: s += e; break;
        }
        i_ += 2;
      } else {
        s += t_[i_++];
      }
    }
    ++i_;
    return s;
  }

  void value(std::string& ptr, int depth) {
    if (i_ >= t_.size() || depth > kMaxDepth) return;
    out_.emplace(ptr, i_);
    char c = t_[i_];
    if (c == '{') {
      ++i_;
      skip_ws();
      while (i_ < t_.size() && t_[i_] != '}') {
        if (t_[i_] != '"') return;
        std::string key = read_string();
        skip_ws();
        if (i_ >= t_.size() || t_[i_] != ':') return;
        ++i_;
        skip_ws();
        std::size_t len = ptr.size();
        ptr += '/';
        ptr += escape_pointer_token(key);
        value(ptr, depth + 1);
        ptr.resize(len);
        skip_ws();
        if (i_ < t_.size() && t_[i_] == ',') { ++i_; skip_ws(); }
        else break;
      }
      ++i_;
    } else if (c == '[') {
      ++i_;
      skip_ws();
      int index = 0;
      while (i_ < t_.size() && t_[i_] != ']') {
        std::size_t len = ptr.size();
        ptr += '/';
        ptr += std::to_string(index++);
        value(ptr, depth + 1);
        ptr.resize(len);
        skip_ws();
        if (i_ < t_.size() && t_[i_] == ',') { ++i_; skip_ws(); }
        else break;
      }
      ++i_;
    } else if (c == '"') {
      read_string();
    } else {
      while (i_ < t_.size() && t_[i_] != ',' && t_[i_] != '}' && t_[i_] != ']' && t_[i_] != ' ' &&
             t_[i_] != '\n' && t_[i_] != '\r' && t_[i_] != '\t')
        ++i_;
    }
  }

  std::string_view t_;
  std::unordered_map<std::string, std::size_t>& out_;
  std::size_t i_ = 0;
};

}  // namespace

void SourceIndex::build() const {
  if (built_) return;
  built_ = true;
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  PositionScanner(text_, values_).run();
}

SourceIndex::Pos SourceIndex::position_of_offset(std::size_t offset) const {
  build();
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
  std::size_t col = offset - line_starts_[line - 1] + 1;
  return {static_cast<int>(line), static_cast<int>(col)};
}

SourceIndex::Pos SourceIndex::locate(std::string_view pointer, int expr_offset) const {
  build();
  // The longest recorded prefix of the pointer: a missing field is reported at its parent object.
  std::string p(pointer);
  for (;;) {
    if (auto found = values_.find(p); found != values_.end()) {
      std::size_t at = found->second;
      if (expr_offset >= 0 && at < text_.size() && text_[at] == '"') {
        // Walk the raw string, counting decoded bytes, to find the file column of the expression byte.
        std::size_t i = at + 1;
        int decoded = 0;
        while (i < text_.size() && text_[i] != '"' && decoded < expr_offset) {
          if (text_[i] == '\\' && i + 5 < text_.size() && text_[i + 1] == 'u') {
            // \uXXXX decodes to 1 to 3 UTF-8 bytes (a surrogate pair, two escapes, to 4).
            unsigned cp = static_cast<unsigned>(std::strtoul(std::string(text_.substr(i + 2, 4)).c_str(), nullptr, 16));
            decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : (cp >= 0xD800 && cp <= 0xDFFF) ? 2 : 3;
            i += 6;
          } else {
            i += text_[i] == '\\' ? 2 : 1;
            ++decoded;
          }
        }
        at = i;
      }
      return position_of_offset(at);
    }
    if (p.empty()) return {};
    auto slash = p.rfind('/');
    p.resize(slash == std::string::npos ? 0 : slash);
  }
}

std::string escape_pointer_token(std::string_view key) {
  std::string r;
  for (char c : key) {
    if (c == '~') r += "~0";
    else if (c == '/') r += "~1";
    else r += c;
  }
  return r;
}

std::string closest_name(std::string_view wanted, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, wanted.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::vector<std::size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= wanted.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        std::size_t sub = prev[j - 1] + (wanted[i - 1] == c[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = c;
    }
  }
  return best;
}

}  // namespace flowd
