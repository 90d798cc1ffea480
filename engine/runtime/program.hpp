// The compiled, immutable form of a flow: functions as linear bytecode with resolved slots,
// classes with field layouts, listeners and services. Built once by the compiler; every
// connection only reads it, so threads share it without locks.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "lang/types.hpp"
#include "runtime/value.hpp"
#include "support/log_level.hpp"

namespace flowd {

// The instructions: runtime/opcodes.def lists each once, with its operands and what it does.
enum class Op : std::uint8_t {
#define OP(name, operands) name,
#include "runtime/opcodes.def"
#undef OP
};

enum class Cmp : std::uint8_t { Lt, Le, Gt, Ge };
enum class IterKind : std::uint8_t { List, Bytes, MapValues, Range };
enum class CallerField : std::uint8_t { RemoteHost, RemotePort, LocalHost, LocalPort, Id };
enum class ActionId : std::uint8_t { WriteBytes, Close, ClientWrite, ClientRead, ClientClose };
// Operands of Op::Connect, in push order (an absent setting is nil).
enum class ConnectArg : std::uint8_t {
  RemoteHost, RemotePort, Timeout, WriteTimeout,
  Secure,            // boolean: a secureSocket was given and is enabled
  Cert, Versions, Ciphers, HandshakeTimeout, SessionTimeout, VerifyHostName,
  Count
};
inline constexpr int kConnectArgs = static_cast<int>(ConnectArg::Count);

struct Instr {
  Op op;
  std::uint8_t u8 = 0;
  std::uint16_t a = 0;
  std::int32_t b = 0;
};

// Where an instruction came from, for runtime error reports: the node and field.
struct SourceSite {
  std::string node_id;   // "b1" or "" when the node has no id
  std::string label;     // "Call Function"
  std::string kind;      // "FUNCTION_CALL"
  std::string pointer;   // JSON pointer of the node
  int line = 0;          // position of the node in the flow file
  int column = 0;
};

struct Function {
  std::string name;                 // "ChatService.onBytes", "onConnect", "configurable port"
  std::vector<Instr> code;
  std::vector<std::uint32_t> sites; // per instruction, index into Program::sites
  int nparams = 0;                  // including self for methods
  int nlocals = 0;                  // including params
  const Type* ret = nullptr;
  int reads_configurable = -1;      // module expressions written as a configurable's name ("port"):
                                    // its global index, so start-up errors can name -Cport=...
};

struct FieldInfo {
  std::string name;
  const Type* type = nullptr;
};

struct ClassInfo {
  std::string name;
  int index = 0;
  const Type* type = nullptr;
  std::vector<FieldInfo> fields;
  std::vector<Value> field_template;  // constant defaults; non-constant ones are set by init
  const Function* init = nullptr;     // runs the non-constant field defaults with self in slot 0
  const Function* on_bytes = nullptr;
  const Function* on_close = nullptr;
  const Function* on_error = nullptr;
  bool on_bytes_takes_caller = false;
  bool on_close_takes_caller = false;
  bool on_error_takes_caller = false;
  int field_index(std::string_view n) const {
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (fields[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

struct GlobalInfo {
  std::string name;
  const Type* type = nullptr;
  bool configurable = false;
  const Function* init = nullptr;   // computes the default; null for a required configurable
  std::string pointer;
  bool connection = false;          // a module-level tcp:Client (NEW_CONNECTION), connected at start
};

enum class Framing : std::uint8_t { Raw, Line };

// A listener's secureSocket (Ballerina's ListenerSecureSocket): each setting an expression of no
// arguments (null = absent), or for the lists, literal strings given in the flow.
struct TlsSpec {
  const Function* cert_file = nullptr;       // string
  const Function* key_file = nullptr;        // string
  const Function* key_password = nullptr;    // string
  const Function* versions = nullptr;        // string[]
  std::vector<std::string> versions_list;
  const Function* ciphers = nullptr;         // string[]
  std::vector<std::string> ciphers_list;
  const Function* handshake_timeout = nullptr;  // float seconds
  const Function* session_timeout = nullptr;    // float seconds
};

struct ListenerInfo {
  std::string name;
  std::string pointer;
  const Function* port = nullptr;   // returns int
  const Function* host = nullptr;   // returns string; null = default host
  Framing framing = Framing::Raw;
  // Optional settings, each an expression (null = the default; see ListenerSettings).
  const Function* max_line_length = nullptr;  // int
  const Function* max_connections = nullptr;  // int
  const Function* max_output_bytes = nullptr; // int
  const Function* idle_timeout = nullptr;     // float seconds
  const Function* line_timeout = nullptr;     // float seconds
  bool secure = false;                        // TLS, with `tls`
  TlsSpec tls;
};

// A function defined in the flow (BI's FUNCTION_DEFINITION).
struct UserFunction {
  std::string name;
  std::vector<std::pair<std::string, const Type*>> params;
  const Type* ret = nullptr;
  int function_index = -1;          // into Program::functions
};

struct ServiceInfo {
  int listener = 0;
  const Function* on_connect = nullptr;
};

struct NativeContext;
// A library function: returns false after setting ctx's panic when it raises.
using NativeImpl = bool (*)(NativeContext& ctx, Value* args, int argc, Value& out);

struct NativeInfo {
  std::string name;
  NativeImpl impl = nullptr;
};

struct Program {
  std::string file;                 // as given on the command line
  std::string module;               // module name in log lines
  std::unique_ptr<TypeTable> types = std::make_unique<TypeTable>();
  std::deque<Function> functions;
  std::deque<ClassInfo> classes;
  std::vector<GlobalInfo> globals;
  std::vector<ListenerInfo> listeners;
  std::vector<ServiceInfo> services;
  std::vector<UserFunction> user_functions;
  // Whether any handler can read or write module-level variables (not configurables): such flows
  // run their handlers one at a time across threads, so shared state needs no locks in the flow.
  bool has_module_state = false;
  // Whether a tcp:Client can be shared between connections (a module-level connection, or a module
  // variable that can hold one). A client lives on one event loop, so such flows run on one thread.
  bool shares_clients = false;
  std::vector<Value> constants;
  std::vector<SourceSite> sites;
  std::vector<std::vector<std::string>> key_sets;   // log key names, map literal keys
  std::vector<const Type*> type_tests;               // `is` operands
  std::vector<NativeInfo> natives;
  int node_count = 0;
};

}  // namespace flowd
