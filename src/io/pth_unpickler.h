// Internal to the .pth reader (src/io/pth.cpp): the restricted unpickler. It builds plain
// values (no code runs): every global is checked against the few a state dict uses when it
// is read, and REDUCE is only ever applied to those. All values live in one arena owned by
// the unpickler: no recursive destruction (nesting cannot overflow the stack) and reference
// cycles cannot leak past it; every opcode adds at most one value, and the counts are capped.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "convnet/core/error.h"

namespace convnet::io::pth_impl {

constexpr size_t kMaxValues = size_t{1} << 20;  // objects one pickle may make
constexpr size_t kMaxItems = size_t{1} << 23;   // references all containers and the stack may hold
constexpr int64_t kMaxRank = 32;

struct Value {
  enum Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor } kind = None;
  int64_t i = 0;
  bool big = false;  // an Int wider than 64 bits: its little-endian bytes in s
  double f = 0;
  std::string s;              // Str, Bytes; Global: "module.name"; Storage: its key
  std::vector<Value*> items;  // Tuple, List; Dict: key, value, key, value, ...
  // Storage: the safetensors dtype name, element count and (legacy views) element offset.
  std::string dtype;
  int64_t numel = 0, view_offset = 0;
  // Tensor: its storage, offset, sizes and strides.
  const Value* storage = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

// "an int", "a dict", ... for messages.
const char* kind_name(Value::Kind k);
// The storages a state dict uses, by the name torch pickles them under, to their dtype names.
const std::map<std::string, std::string>& storage_types();
// Whether a pickled global is one a state dict uses.
bool allowed_global(const std::string& g);

class Unpickler {
 public:
  Unpickler(const std::string& path, const std::string& what) : path_(path), what_(what) {}
  // Unpicklers are reused for consecutive pickles of one file (the legacy format); the
  // counts then cover them all.

  // Unpickles the pickle starting at `at` in `data`; `at` is left just past its STOP.
  Value* load(const std::string& data, size_t& at);

  // The storages seen in persistent ids, by key (the legacy reader fills in their data).
  std::map<std::string, Value*> storages;

 private:
  template <class... A>
  void check(bool ok, const A&... a) {
    if (!ok)
      throw Error(convnet::detail::cat("pth: '", path_, "': ", what_, " is malformed at byte ", pos_, ": ", a...));
  }
  unsigned char byte() {
    check(pos_ < data_->size(), "it ends before its STOP opcode (truncated?)");
    return static_cast<unsigned char>((*data_)[pos_++]);
  }
  std::string take(uint64_t n) {
    check(n <= data_->size() - pos_, "a ", n, "-byte field runs past its end (truncated?)");
    std::string s = data_->substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  std::string line() {
    const size_t e = data_->find('\n', pos_);
    check(e != std::string::npos && e - pos_ <= 256, "a GLOBAL name without its newline");
    std::string s = data_->substr(pos_, e - pos_);
    pos_ = e + 1;
    return s;
  }
  Value* make(Value::Kind k) {
    check(arena_.size() < kMaxValues, "it makes more than ", kMaxValues, " objects; a state dict needs far fewer");
    arena_.push_back(std::make_unique<Value>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }
  size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Value* v) {
    count(1);
    stack_.push_back(v);
  }
  // Every reference held (stack entries, container items) counts against kMaxItems.
  void count(size_t n) {
    items_ += n;
    check(items_ <= kMaxItems, "it holds more than ", kMaxItems, " references; a state dict needs far fewer");
  }
  Value* top() {
    check(stack_.size() > base(), "an opcode needs a value but the stack is empty");
    return stack_.back();
  }
  Value* pop() {
    Value* v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<Value*> pop_mark() {
    check(!marks_.empty(), "an opcode needs a MARK but there is none");
    std::vector<Value*> xs(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return xs;
  }
  Value* list_top() {
    Value* l = top();
    check(l->kind == Value::List, "APPEND to ", kind_name(l->kind), ", not a list");
    return l;
  }
  Value* dict_top() {
    Value* d = top();
    check(d->kind == Value::Dict, "SETITEM on ", kind_name(d->kind), ", not a dict");
    return d;
  }
  Value* memo_get(uint64_t k) {
    auto it = memo_.find(k);
    check(it != memo_.end(), "a memo entry ", k, " that was never stored");
    return it->second;
  }
  void push_int(int64_t i) {
    Value* v = make(Value::Int);
    v->i = i;
    push(v);
  }
  void push_str(Value::Kind k, uint64_t n) {
    Value* v = make(k);
    v->s = take(n);
    push(v);
  }
  Value* global(const std::string& g) {
    if (!allowed_global(g))
      throw Error("pth: '" + path_ + "': " + what_ + " refers to the global '" + g +
                  "', which a state dict does not need; only collections.OrderedDict, "
                  "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and the torch.*Storage types "
                  "are allowed, as with torch.load(weights_only=True) (nothing was executed)" +
                  (g.rfind("__torch__.", 0) == 0 ? "; this looks like a TorchScript archive (torch.jit.save), "
                                                   "which holds code: save model.state_dict() with torch.save instead"
                                                 : ""));
    Value* v = make(Value::Global);
    v->s = g;
    return v;
  }
  int64_t as_int(const Value* v, const char* what) {
    check(v->kind == Value::Int, what, " must be an int, not ", kind_name(v->kind));
    check(!v->big, what, " is wider than 64 bits");
    return v->i;
  }
  std::vector<int64_t> int_tuple(const Value* v, const char* what) {
    check(v->kind == Value::Tuple, what, " must be a tuple, not ", kind_name(v->kind));
    check(static_cast<int64_t>(v->items.size()) <= kMaxRank, what, " has ", v->items.size(), " entries; the limit is ",
          kMaxRank);
    std::vector<int64_t> out;
    for (const Value* x : v->items) out.push_back(as_int(x, what));
    return out;
  }
  Value* reduce(Value* fn, const std::vector<Value*>& args) {
    check(fn->kind == Value::Global, "REDUCE calls ", kind_name(fn->kind), ", not a global");
    if (fn->s == "collections.OrderedDict") {
      check(args.empty(), "OrderedDict() with arguments");
      return make(Value::Dict);
    }
    if (fn->s == "torch._utils._rebuild_parameter") {  // (tensor, requires_grad, hooks)
      check(!args.empty() && args[0]->kind == Value::Tensor, "_rebuild_parameter without a tensor");
      return args[0];
    }
    if (fn->s ==
        "torch._utils._rebuild_tensor_v2") {  // (storage, offset, size, stride, requires_grad, hooks[, metadata])
      check(args.size() >= 4 && args[0]->kind == Value::Storage, "_rebuild_tensor_v2 without a storage");
      Value* t = make(Value::Tensor);
      t->storage = args[0];
      t->offset = as_int(args[1], "a tensor's storage offset");
      t->sizes = int_tuple(args[2], "a tensor's size");
      t->strides = int_tuple(args[3], "a tensor's stride");
      check(t->sizes.size() == t->strides.size(), "a tensor whose size ", t->sizes.size(), " and stride ",
            t->strides.size(), " have different lengths");
      return t;
    }
    check(false, "REDUCE calls ", fn->s, ", which makes no object here");
    return nullptr;
  }
  // ('storage', type, key, location, numel) in the zip format; legacy adds a view: None or
  // (view_key, offset, view_numel).
  Value* storage(const Value* pid) {
    check(pid->kind == Value::Tuple && (pid->items.size() == 5 || pid->items.size() == 6) &&
              pid->items[0]->kind == Value::Str && pid->items[0]->s == "storage",
          "a persistent id that is not a ('storage', ...) tuple");
    const Value* type = pid->items[1];
    check(type->kind == Value::Global && storage_types().count(type->s), "a storage whose type is not a storage class");
    const Value* key = pid->items[2];
    check(key->kind == Value::Str && !key->s.empty() && key->s.size() <= 64,
          "a storage key that is not a short string");
    const int64_t numel = as_int(pid->items[4], "a storage's element count");
    check(numel >= 0, "a storage of ", numel, " elements");
    const std::string& dt = storage_types().at(type->s);
    Value*& base = storages[key->s];
    if (!base) {
      base = make(Value::Storage);
      base->s = key->s, base->dtype = dt, base->numel = numel;
    }
    check(base->dtype == dt && base->numel == numel, "storage '", key->s, "' is described twice, differently");
    if (pid->items.size() == 6 && pid->items[5]->kind != Value::None) {  // a legacy view into another storage
      const Value* view = pid->items[5];
      check(view->kind == Value::Tuple && view->items.size() == 3 && view->items[0]->kind == Value::Str,
            "a malformed storage view");
      const int64_t off = as_int(view->items[1], "a storage view's offset"),
                    n = as_int(view->items[2], "a storage view's size");
      check(off >= 0 && n >= 0 && off <= numel && n <= numel - off, "a storage view [", off, ", +", n,
            ") outside its storage of ", numel, " elements");
      Value* v = make(Value::Storage);
      v->s = key->s, v->dtype = dt, v->numel = n, v->view_offset = off;
      return v;
    }
    return base;
  }

  std::string path_, what_;
  const std::string* data_ = nullptr;
  size_t pos_ = 0;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
  std::vector<std::unique_ptr<Value>> arena_;
  size_t items_ = 0;
};

}  // namespace convnet::io::pth_impl
