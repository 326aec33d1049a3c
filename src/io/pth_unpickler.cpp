// The restricted unpickler of the .pth reader (pth_unpickler.h): the opcodes it reads.
#include "pth_unpickler.h"

#include <cstdio>
#include <cstring>

#include "pth_zip.h"  // le(): the little-endian fields of both formats

namespace convnet::io::pth_impl {

const char* kind_name(Value::Kind k) {
  static const char* names[] = {"None",    "a bool", "an int", "a float",  "a str",     "a bytes",
                                "a tuple", "a list", "a dict", "a global", "a storage", "a tensor"};
  return names[k];
}

// The storages a state dict uses, by the name torch pickles them under.
const std::map<std::string, std::string>& storage_types() {
  static const std::map<std::string, std::string> m = {
      {"torch.FloatStorage", "F32"},  {"torch.HalfStorage", "F16"}, {"torch.BFloat16Storage", "BF16"},
      {"torch.DoubleStorage", "F64"}, {"torch.LongStorage", "I64"}, {"torch.IntStorage", "I32"},
      {"torch.ShortStorage", "I16"},  {"torch.CharStorage", "I8"},  {"torch.ByteStorage", "U8"},
      {"torch.BoolStorage", "BOOL"}};
  return m;
}
bool allowed_global(const std::string& g) {
  return g == "collections.OrderedDict" || g == "torch._utils._rebuild_tensor_v2" ||
         g == "torch._utils._rebuild_parameter" || storage_types().count(g);
}

Value* Unpickler::load(const std::string& data, size_t& at) {
  data_ = &data;
  pos_ = at;
  stack_.clear();
  marks_.clear();
  memo_.clear();
  for (;;) {
    const unsigned char op = byte();
    switch (op) {
      case 0x80:  // PROTO
        check(byte() <= 5, "a pickle protocol above 5");
        break;
      case 0x95:  // FRAME: only a hint for buffered readers
        take(8);
        break;
      case '.': {  // STOP
        Value* v = pop();
        at = pos_;
        return v;
      }
      case '(':
        marks_.push_back(stack_.size());
        break;
      case ')':
        push(make(Value::Tuple));
        break;
      case ']':
        push(make(Value::List));
        break;
      case '}':
        push(make(Value::Dict));
        break;
      case 't':
      case 'l':
      case 'd': {
        Value* v = make(op == 't' ? Value::Tuple : op == 'l' ? Value::List : Value::Dict);
        v->items = pop_mark();
        check(op != 'd' || v->items.size() % 2 == 0, "DICT with an odd number of items");
        push(v);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1-3
        const size_t n = op - 0x84;
        check(stack_.size() >= base() + n, "a tuple of more items than the stack holds");
        Value* v = make(Value::Tuple);
        v->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        push(v);
        break;
      }
      case 'a': {  // APPEND
        Value* x = pop();
        count(1);
        list_top()->items.push_back(x);
        break;
      }
      case 'e': {  // APPENDS
        auto xs = pop_mark();
        Value* l = list_top();
        count(xs.size());
        l->items.insert(l->items.end(), xs.begin(), xs.end());
        break;
      }
      case 's': {  // SETITEM
        Value* v = pop();
        Value* k = pop();
        count(2);
        dict_top()->items.insert(dict_top()->items.end(), {k, v});
        break;
      }
      case 'u': {  // SETITEMS
        auto xs = pop_mark();
        check(xs.size() % 2 == 0, "SETITEMS with an odd number of items");
        Value* d = dict_top();
        count(xs.size());
        d->items.insert(d->items.end(), xs.begin(), xs.end());
        break;
      }
      case 'N':
        push(make(Value::None));
        break;
      case 0x88:
      case 0x89: {
        Value* v = make(Value::Bool);
        v->i = op == 0x88;
        push(v);
        break;
      }
      case 'J':
        push_int(static_cast<int32_t>(le(take(4), 0, 4)));
        break;
      case 'K':
        push_int(byte());
        break;
      case 'M':
        push_int(static_cast<int64_t>(le(take(2), 0, 2)));
        break;
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        const size_t n = byte();
        if (n > 8) {  // kept as its bytes (the legacy magic number has 10), never used as a number
          check(n <= 16, "an integer wider than 128 bits");
          Value* v = make(Value::Int);
          v->big = true;
          v->s = take(n);
          push(v);
          break;
        }
        const std::string b = take(n);
        uint64_t u = n ? le(b, 0, static_cast<int>(n)) : 0;
        if (n && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80)) u |= ~uint64_t{0} << (8 * n);
        push_int(static_cast<int64_t>(u));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const std::string b = take(8);
        uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<unsigned char>(b[k]);
        Value* v = make(Value::Float);
        std::memcpy(&v->f, &u, 8);
        push(v);
        break;
      }
      case 'X':
        push_str(Value::Str, le(take(4), 0, 4));
        break;
      case 0x8c:
        push_str(Value::Str, byte());
        break;
      case 0x8d:
        push_str(Value::Str, le(take(8), 0, 8));
        break;
      case 'T':
        push_str(Value::Bytes, le(take(4), 0, 4));
        break;
      case 'U':
        push_str(Value::Bytes, byte());
        break;
      case 'B':
        push_str(Value::Bytes, le(take(4), 0, 4));
        break;
      case 'C':
        push_str(Value::Bytes, byte());
        break;
      case 'c': {  // GLOBAL "module\nname\n"
        const std::string mod = line(), name = line();
        push(global(mod + "." + name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        Value* name = pop();
        Value* mod = pop();
        check(mod->kind == Value::Str && name->kind == Value::Str, "STACK_GLOBAL of values that are not strings");
        push(global(mod->s + "." + name->s));
        break;
      }
      case 'q':
        memo_[byte()] = top();
        break;
      case 'r':
        memo_[le(take(4), 0, 4)] = top();
        break;
      case 0x94:
        memo_[memo_.size()] = top();
        break;
      case 'h':
        push(memo_get(byte()));
        break;
      case 'j':
        push(memo_get(le(take(4), 0, 4)));
        break;
      case '0':
        pop();
        break;
      case '1':
        pop_mark();
        break;
      case '2':
        push(top());
        break;
      case 'R': {  // REDUCE: only the allowed globals are ever called
        Value* args = pop();
        Value* fn = pop();
        check(args->kind == Value::Tuple, "REDUCE with arguments that are not a tuple");
        push(reduce(fn, args->items));
        break;
      }
      case 'b': {  // BUILD: the state of an OrderedDict (state_dict's _metadata) or a tensor is not needed
        Value* state = pop();
        (void)state;
        Value* obj = top();
        check(obj->kind == Value::Dict || obj->kind == Value::Tensor, "BUILD on ", kind_name(obj->kind));
        break;
      }
      case 'Q': {  // BINPERSID: a storage
        Value* pid = pop();
        push(storage(pid));
        break;
      }
      default:
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        throw Error(
            convnet::detail::cat("pth: '", path_, "': ", what_, " uses the pickle opcode ", hex, " at byte ", pos_ - 1,
                                 ", which a state dict does not need; only the opcodes for dicts, lists, tuples, "
                                 "strings, numbers and tensors are read (nothing was executed)"));
    }
  }
}

}  // namespace convnet::io::pth_impl
