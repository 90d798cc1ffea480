#include "runtime/disassembler.hpp"

#include <cstdio>
#include <string_view>

namespace flowd {

const char* op_name(Op op) {
  switch (op) {
#define OP(name, operands) case Op::name: return #name;
#include "runtime/opcodes.def"
#undef OP
  }
  return "?";
}

const char* op_operands(Op op) {
  switch (op) {
#define OP(name, operands) case Op::name: return operands;
#include "runtime/opcodes.def"
#undef OP
  }
  return "";
}

namespace {

std::string operand_text(const Instr& in) {
  std::string out;
  std::string_view fields = op_operands(in.op);
  while (!fields.empty()) {
    std::size_t space = fields.find(' ');
    std::string_view field = fields.substr(0, space);
    fields = space == std::string_view::npos ? std::string_view() : fields.substr(space + 1);
    long long value = field == "u8" ? in.u8 : field == "a" ? in.a : in.b;
    if (!out.empty()) out += ' ';
    out += field;
    out += '=';
    out += std::to_string(value);
  }
  return out;
}

}  // namespace

std::string disassemble(const Function& fn, const Program& program) {
  std::string out = "== " + fn.name + " ==\n";
  char line[160];
  for (std::size_t i = 0; i < fn.code.size(); ++i) {
    const Instr& in = fn.code[i];
    const std::string* node = nullptr;
    if (i < fn.sites.size() && fn.sites[i] < program.sites.size()) node = &program.sites[fn.sites[i]].node_id;
    std::snprintf(line, sizeof line, "%04zu  %-15s %-16s %s\n", i, op_name(in.op), operand_text(in).c_str(),
                  node && !node->empty() ? node->c_str() : "-");
    out += line;
  }
  return out;
}

std::string disassemble(const Program& program) {
  std::string out;
  for (const Function& fn : program.functions) {
    if (!out.empty()) out += '\n';
    out += disassemble(fn, program);
  }
  return out;
}

}  // namespace flowd
