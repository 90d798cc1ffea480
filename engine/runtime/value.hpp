// Runtime values: a 16-byte tagged union; heap values are immutable or owned by one connection's
// state and shared by an intrusive, atomic reference count (values may cross threads).
#pragma once
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowd {

enum class ValueTag : std::uint8_t { Nil, Boolean, Int, Float, String, Bytes, Error, Object, Caller, Array, Map, Client };

struct HeapObj {
  mutable std::atomic<std::uint32_t> refs{1};
  HeapObj() = default;
  HeapObj(const HeapObj&) = delete;
  HeapObj& operator=(const HeapObj&) = delete;
  virtual ~HeapObj() = default;
};

// Whether values may be shared between threads. With one event-loop thread (the usual case when
// the process is pinned to one CPU) reference counts need no locked instructions; the engine sets this
// before it starts a second thread, and it never changes back.
inline std::atomic<bool> g_values_shared_across_threads{false};

class Value {
 public:
  Value() noexcept : tag_(ValueTag::Nil) { u_.i = 0; }
  static Value boolean(bool b) noexcept { Value v; v.tag_ = ValueTag::Boolean; v.u_.b = b; return v; }
  static Value integer(std::int64_t i) noexcept { Value v; v.tag_ = ValueTag::Int; v.u_.i = i; return v; }
  static Value floating(double f) noexcept { Value v; v.tag_ = ValueTag::Float; v.u_.f = f; return v; }
  // Copies the characters into a new string value (one allocation).
  static Value string(std::string_view s);
  static Value bytes(std::string_view s);
  // Adopts a heap object whose count is already 1.
  static Value adopt(ValueTag tag, HeapObj* p) noexcept { Value v; v.tag_ = tag; v.u_.p = p; return v; }

  Value(const Value& o) noexcept : tag_(o.tag_), u_(o.u_) { retain(); }
  Value(Value&& o) noexcept : tag_(o.tag_), u_(o.u_) { o.tag_ = ValueTag::Nil; }
  Value& operator=(const Value& o) noexcept {
    if (this != &o) { o.retain(); release(); tag_ = o.tag_; u_ = o.u_; }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) { release(); tag_ = o.tag_; u_ = o.u_; o.tag_ = ValueTag::Nil; }
    return *this;
  }
  ~Value() { release(); }

  ValueTag tag() const noexcept { return tag_; }
  bool is_nil() const noexcept { return tag_ == ValueTag::Nil; }
  bool is_error() const noexcept { return tag_ == ValueTag::Error; }
  bool is_heap() const noexcept { return tag_ >= ValueTag::String; }
  bool as_bool() const noexcept { return u_.b; }
  std::int64_t as_int() const noexcept { return u_.i; }
  double as_float() const noexcept { return u_.f; }
  HeapObj* heap() const noexcept { return u_.p; }
  // String and Bytes share one representation (so toBytes / fromBytes need not copy). The
  // characters are followed by a NUL (str().data() is a C string).
  std::string_view str() const noexcept;
  template <class T> T* as() const noexcept { return static_cast<T*>(u_.p); }
  // Same underlying payload, other tag (String <-> Bytes); shares the buffer.
  Value retagged(ValueTag t) const noexcept { Value v(*this); v.tag_ = t; return v; }

 private:
  void retain() const noexcept {
    if (!is_heap()) return;
    if (g_values_shared_across_threads.load(std::memory_order_relaxed))
      u_.p->refs.fetch_add(1, std::memory_order_relaxed);
    else
      u_.p->refs.store(u_.p->refs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (!is_heap()) return;
    if (g_values_shared_across_threads.load(std::memory_order_relaxed)) {
      if (u_.p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete u_.p;
    } else {
      std::uint32_t n = u_.p->refs.load(std::memory_order_relaxed) - 1;
      u_.p->refs.store(n, std::memory_order_relaxed);
      if (n == 0) delete u_.p;
    }
  }
  ValueTag tag_;
  union U { bool b; std::int64_t i; double f; HeapObj* p; } u_;
};

// A string or byte[] payload in one allocation: the object, then its characters and a NUL.
struct StrObj final : HeapObj {
  // A payload of n characters, left uninitialized for the caller to fill in before sharing it
  // (so a result is built in place, without an intermediate std::string). `room`: characters the
  // block can hold, for a buffer its single owner refills (size may then grow up to room).
  static StrObj* make(std::size_t n, std::size_t room = 0) {
    void* mem = ::operator new(sizeof(StrObj) + (room > n ? room : n) + 1);
    auto* o = new (mem) StrObj(n);
    o->chars()[n] = '\0';
    return o;
  }
  static StrObj* make(std::string_view s) {
    StrObj* o = make(s.size());
    if (!s.empty()) std::memcpy(o->chars(), s.data(), s.size());
    return o;
  }
  char* chars() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* chars() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  std::string_view view() const noexcept { return {chars(), size}; }
  // The block is larger than sizeof(StrObj): freed without a size, never with a sized delete.
  static void operator delete(void* p) noexcept { ::operator delete(p); }

  std::size_t size;  // changed only while unshared (refs == 1)

 private:
  explicit StrObj(std::size_t n) noexcept : size(n) {}
};

inline Value Value::string(std::string_view s) { return adopt(ValueTag::String, StrObj::make(s)); }
inline Value Value::bytes(std::string_view s) { return adopt(ValueTag::Bytes, StrObj::make(s)); }
inline std::string_view Value::str() const noexcept { return static_cast<const StrObj*>(u_.p)->view(); }

struct ErrorObj final : HeapObj {
  ErrorObj(std::string m, Value c) : message(std::move(m)), cause(std::move(c)) {}
  std::string message;
  Value cause;  // nil or another error
};

inline Value make_error(std::string message, Value cause = Value()) {
  return Value::adopt(ValueTag::Error, new ErrorObj(std::move(message), std::move(cause)));
}

struct ClassInfo;

struct InstanceObj final : HeapObj {
  InstanceObj(const ClassInfo* c, std::vector<Value> f) : cls(c), fields(std::move(f)) {}
  const ClassInfo* cls;
  std::vector<Value> fields;
};

// What a connection offers to flows: writing, closing, and its addresses.
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues bytes for the client. Returns false with `error` set when the connection is closed.
  virtual bool write(const Value& bytes, std::string& error) = 0;
  virtual void close() = 0;
};

struct CallerObj final : HeapObj {
  std::weak_ptr<Connection> conn;
  std::string remote_host, local_host, id;
  std::int64_t remote_port = 0, local_port = 0;
};

// A tcp:Client connection to another service (implemented by the network layer, net/client.hpp).
class ClientLink {
 public:
  virtual ~ClientLink() = default;
  virtual std::string describe() const = 0;  // "127.0.0.1:7000"
  virtual void close() = 0;
};

// The flow's handle on a client connection: when the flow holds it no more, the connection closes.
struct ClientObj final : HeapObj {
  explicit ClientObj(std::shared_ptr<ClientLink> l) : link(std::move(l)) {}
  ~ClientObj() override { link->close(); }
  std::shared_ptr<ClientLink> link;
};

struct ArrayObj final : HeapObj {
  std::vector<Value> items;
};

struct MapObj final : HeapObj {
  // Insertion-ordered, as Ballerina maps are.
  std::vector<std::pair<std::string, Value>> entries;
  Value* find(std::string_view key);
};

bool values_equal(const Value& a, const Value& b);
// Ballerina's toString(): strings as themselves, nil as "", errors as error("msg").
std::string to_display_string(const Value& v);
void append_display_string(std::string& out, const Value& v);
// Ballerina's float formatting (shortest round-trip, always with a '.' or exponent).
void append_float(std::string& out, double d);

}  // namespace flowd
