// The bytecode of a program as text, for `flowd check --disassemble` (and for a trace or a debugger
// to name what ran): each function under a "== name ==" header, one line per instruction with its
// offset, opcode, operands and the id of the node it was compiled from.
#pragma once
#include <string>

#include "runtime/program.hpp"

namespace flowd {

// "Const", "JumpIfFalse"...
const char* op_name(Op op);
// "a b", "u8 a b", "": the operand fields the instruction uses.
const char* op_operands(Op op);

std::string disassemble(const Function& fn, const Program& program);
std::string disassemble(const Program& program);

}  // namespace flowd
