// PyTorch state-dict files (.pth) without Python: a zip reader for the format of torch.save
// since 1.6, the legacy format before it, and a restricted unpickler. The unpickler builds
// plain values (no code runs): every global is checked against the few a state dict uses
// before it is even looked at, and REDUCE is only ever applied to those.
//
// Bounds (docs/security.md): all values live in one arena owned by the unpickler (no
// recursive destruction, so nesting cannot overflow the stack, and reference cycles cannot
// leak past the call); every opcode adds at most one value, so the arena is bounded by the
// pickle's size; zip entries are checked against the file size before anything is read; the
// tensors made may hold at most 4x the elements of the storages in the file.
#include "convnet/io/pth.h"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "convnet/core/error.h"
#include "raw_dtype.h"

namespace convnet::io {

namespace {

constexpr int64_t kMaxZipEntries = 1 << 20;
constexpr int64_t kMaxPickleBytes = int64_t{64} << 20;
constexpr size_t kMaxValues = size_t{1} << 20;  // objects one pickle may make
constexpr size_t kMaxItems = size_t{1} << 23;   // references all containers and the stack may hold
constexpr int64_t kMaxRank = 32;
constexpr int64_t kElementAllowance = 4;  // tensors made / storage elements in the file

// ---------------------------------------------------------------------------------------
// The file, read with explicit bounds.
struct File {
  std::string path;
  std::ifstream f;
  int64_t size = 0;

  explicit File(const std::string& p) : path(p) {
    namespace fs = std::filesystem;
    std::error_code ec;
    CONVNET_CHECK(fs::exists(p, ec), "pth: cannot open '", p, "' (no such file or not readable)");
    CONVNET_CHECK(fs::is_regular_file(p, ec), "pth: '", p,
                  "' is not a regular file (a directory, FIFO or device); give a .pth file");
    f.open(p, std::ios::binary);
    CONVNET_CHECK(f.good(), "pth: cannot open '", p, "' (not readable)");
    f.seekg(0, std::ios::end);
    size = f.tellg();
    f.seekg(0);
  }
  std::string read(int64_t off, int64_t n, const char* what) {
    CONVNET_CHECK(off >= 0 && n >= 0 && off <= size && n <= size - off, "pth: '", path, "': ", what, " (bytes ", off,
                  " to ", off + n, ") lies outside the ", size, "-byte file (truncated?)");
    std::string s(static_cast<size_t>(n), '\0');
    f.seekg(off);
    if (n) f.read(s.data(), n);
    CONVNET_CHECK(f.good(), "pth: '", path, "': read error in ", what);
    return s;
  }
};

uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// ---------------------------------------------------------------------------------------
// The zip archive: stored (uncompressed) entries only, as torch.save writes them.
struct ZipEntry {
  int64_t offset = 0, size = 0;  // of the data
  uint32_t crc = 0;
  int method = 0;  // 0: stored
  bool encrypted = false;
};

std::map<std::string, ZipEntry> read_zip(File& file) {
  const std::string& path = file.path;
  // End of central directory: 22 bytes plus a comment of up to 65535, at the end.
  const int64_t tail_n = std::min<int64_t>(file.size, 22 + 65535);
  const std::string tail = file.read(file.size - tail_n, tail_n, "the end of the zip archive");
  int64_t eocd = -1;
  for (int64_t i = tail_n - 22; i >= 0; --i)
    if (le(tail, i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  CONVNET_CHECK(eocd >= 0, "pth: '", path,
                "' starts as a zip archive but has no end-of-central-directory record (truncated?)");
  uint64_t entries = le(tail, eocd + 10, 2), cd_size = le(tail, eocd + 12, 4), cd_off = le(tail, eocd + 16, 4);
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF) {
    // ZIP64: the locator sits just before the record and points at the ZIP64 record.
    const int64_t at = file.size - tail_n + eocd - 20;
    CONVNET_CHECK(at >= 0, "pth: '", path, "': a ZIP64 archive without its locator");
    const std::string loc = file.read(at, 20, "the ZIP64 locator");
    CONVNET_CHECK(le(loc, 0, 4) == 0x07064b50, "pth: '", path, "': a ZIP64 archive without its locator");
    const uint64_t rec_off = le(loc, 8, 8);
    CONVNET_CHECK(rec_off <= static_cast<uint64_t>(file.size), "pth: '", path,
                  "': the ZIP64 record offset lies outside the file");
    const std::string rec = file.read(static_cast<int64_t>(rec_off), 56, "the ZIP64 end-of-central-directory record");
    CONVNET_CHECK(le(rec, 0, 4) == 0x06064b50, "pth: '", path,
                  "': the ZIP64 end-of-central-directory record is corrupt");
    entries = le(rec, 32, 8), cd_size = le(rec, 40, 8), cd_off = le(rec, 48, 8);
  }
  CONVNET_CHECK(cd_off <= static_cast<uint64_t>(file.size) && cd_size <= static_cast<uint64_t>(file.size) - cd_off,
                "pth: '", path, "': the zip central directory (", cd_size, " bytes at ", cd_off, ") lies outside the ",
                file.size, "-byte file");
  CONVNET_CHECK(entries <= static_cast<uint64_t>(kMaxZipEntries) && entries * 46 <= cd_size, "pth: '", path,
                "': the zip archive claims ", entries, " entries in a ", cd_size, "-byte central directory");
  const std::string cd =
      file.read(static_cast<int64_t>(cd_off), static_cast<int64_t>(cd_size), "the zip central directory");
  std::map<std::string, ZipEntry> out;
  size_t p = 0;
  for (uint64_t k = 0; k < entries; ++k) {
    CONVNET_CHECK(p + 46 <= cd.size() && le(cd, p, 4) == 0x02014b50, "pth: '", path, "': zip central directory entry ",
                  k, " is corrupt");
    const uint64_t flags = le(cd, p + 8, 2), method = le(cd, p + 10, 2), crc = le(cd, p + 16, 4);
    uint64_t csize = le(cd, p + 20, 4), usize = le(cd, p + 24, 4), local = le(cd, p + 42, 4);
    const size_t nlen = le(cd, p + 28, 2), xlen = le(cd, p + 30, 2), clen = le(cd, p + 32, 2);
    CONVNET_CHECK(p + 46 + nlen + xlen + clen <= cd.size(), "pth: '", path, "': zip central directory entry ", k,
                  " runs past the directory");
    const std::string name = cd.substr(p + 46, nlen);
    // ZIP64 extra field (id 1): the 64-bit sizes and offset, for those whose 32-bit field is full.
    for (size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const uint64_t id = le(cd, x, 2), len = le(cd, x + 2, 2);
      CONVNET_CHECK(x + 4 + len <= p + 46 + nlen + xlen, "pth: '", path, "': zip entry '", name,
                    "' has a malformed extra field");
      if (id == 1) {
        size_t y = x + 4;
        for (uint64_t* v : {&usize, &csize, &local})
          if (*v == 0xFFFFFFFF) {
            CONVNET_CHECK(y + 8 <= x + 4 + len, "pth: '", path, "': zip entry '", name,
                          "' has a ZIP64 field too short for its sizes");
            *v = le(cd, y, 8), y += 8;
          }
      }
      x += 4 + len;
    }
    p += 46 + nlen + xlen + clen;
    // Compressed or encrypted entries are refused when read (a TorchScript archive, which
    // compresses its code, is then named as such first).
    if (method != 0 || (flags & 1)) usize = 0;
    CONVNET_CHECK(csize == usize || method != 0 || (flags & 1), "pth: '", path, "': zip entry '", name,
                  "' is stored but its sizes differ (", csize, " and ", usize, ")");
    CONVNET_CHECK(local <= static_cast<uint64_t>(file.size) - 30, "pth: '", path, "': zip entry '", name,
                  "' has a local header outside the file");
    const std::string lh = file.read(static_cast<int64_t>(local), 30, "a zip local header");
    CONVNET_CHECK(le(lh, 0, 4) == 0x04034b50, "pth: '", path, "': zip entry '", name,
                  "' points at a corrupt local header");
    const uint64_t data = local + 30 + le(lh, 26, 2) + le(lh, 28, 2);
    CONVNET_CHECK(data <= static_cast<uint64_t>(file.size) && usize <= static_cast<uint64_t>(file.size) - data,
                  "pth: '", path, "': zip entry '", name, "' (", usize, " bytes at ", data, ") lies outside the ",
                  file.size, "-byte file (truncated?)");
    CONVNET_CHECK(out.emplace(name, ZipEntry{static_cast<int64_t>(data), static_cast<int64_t>(usize),
                                             static_cast<uint32_t>(crc), static_cast<int>(method), (flags & 1) != 0})
                      .second,
                  "pth: '", path, "': the zip archive has the entry '", name, "' twice");
  }
  return out;
}

std::string read_entry(File& file, const std::string& name, const ZipEntry& e) {
  CONVNET_CHECK(!e.encrypted, "pth: '", file.path, "': zip entry '", name, "' is encrypted");
  CONVNET_CHECK(e.method == 0, "pth: '", file.path, "': zip entry '", name, "' is compressed (method ", e.method,
                "); torch.save stores entries uncompressed, and only those are read");
  std::string s = file.read(e.offset, e.size, ("zip entry '" + name + "'").c_str());
  const uLong crc = crc32_z(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(s.data()), s.size());
  CONVNET_CHECK(crc == e.crc, "pth: '", file.path, "': zip entry '", name, "' fails its CRC check (corrupt file)");
  return s;
}

// ---------------------------------------------------------------------------------------
// The restricted unpickler.
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

class Unpickler {
 public:
  Unpickler(const std::string& path, const std::string& what) : path_(path), what_(what) {}
  // Unpicklers are reused for consecutive pickles of one file (the legacy format); the
  // counts then cover them all.

  // Unpickles the pickle starting at `at` in `data`; `at` is left just past its STOP.
  Value* load(const std::string& data, size_t& at) {
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
          throw Error(convnet::detail::cat(
              "pth: '", path_, "': ", what_, " uses the pickle opcode ", hex, " at byte ", pos_ - 1,
              ", which a state dict does not need; only the opcodes for dicts, lists, tuples, "
              "strings, numbers and tensors are read (nothing was executed)"));
      }
    }
  }

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

// ---------------------------------------------------------------------------------------
// From the unpickled object to named tensors.
std::string scalar_text(const Value* v) {
  switch (v->kind) {
    case Value::Bool:
      return v->i ? "true" : "false";
    case Value::Int:
      return v->big ? "" : std::to_string(v->i);
    case Value::Float: {
      char b[32];
      std::snprintf(b, sizeof b, "%.17g", v->f);
      return b;
    }
    case Value::Str:
      return v->s;
    default:
      return "";
  }
}

bool holds_tensors(const Value* d) {
  if (d->kind != Value::Dict) return false;
  for (size_t k = 1; k < d->items.size(); k += 2)
    if (d->items[k]->kind == Value::Tensor) return true;
  return false;
}

// The dict of tensors: the top level, or the weights a training checkpoint wraps.
const Value* state_dict_of(const Value* top, const std::string& path, std::string& chosen) {
  CONVNET_CHECK(top->kind == Value::Dict, "pth: '", path, "' holds ", kind_name(top->kind),
                ", not a dict of tensors (torch.save(model.state_dict(), path) writes one)");
  if (holds_tensors(top)) return top;
  for (const char* key : {"state_dict", "model_state_dict", "model", "net", "module", "ema"})
    for (size_t k = 0; k + 1 < top->items.size(); k += 2)
      if (top->items[k]->kind == Value::Str && top->items[k]->s == key && holds_tensors(top->items[k + 1])) {
        chosen = key;
        return top->items[k + 1];
      }
  std::string keys;
  for (size_t k = 0; k + 1 < top->items.size() && keys.size() < 200; k += 2)
    keys +=
        (keys.empty() ? "" : ", ") + (top->items[k]->kind == Value::Str ? "'" + top->items[k]->s + "'"
                                                                        : std::string(kind_name(top->items[k]->kind)));
  throw Error(
      "pth: '" + path + "' holds a dict without tensors (keys: " + (keys.empty() ? "none" : keys) +
      "), and none of its entries state_dict, model_state_dict, model, net, module or ema is a dict of tensors");
}

// The raw little-endian bytes of each storage, by key.
using StorageBytes = std::map<std::string, std::string>;

SafeTensors make_tensors(const Value* top, const StorageBytes& bytes, const std::string& path, bool keep_dtypes) {
  std::string chosen;
  const Value* sd = state_dict_of(top, path, chosen);
  SafeTensors out;
  if (!chosen.empty()) {  // the scalars beside the weights (an epoch, an accuracy)
    out.metadata["pth_state_dict_key"] = chosen;
    for (size_t k = 0; k + 1 < top->items.size(); k += 2)
      if (top->items[k]->kind == Value::Str &&
          (top->items[k + 1]->kind == Value::Str || !scalar_text(top->items[k + 1]).empty()))
        out.metadata[top->items[k]->s] = scalar_text(top->items[k + 1]);
  }
  int64_t storage_elements = 0, made = 0;
  for (const auto& [key, b] : bytes)
    (void)key, storage_elements += static_cast<int64_t>(b.size());  // bytes >= elements
  // Names: strings; the DataParallel prefix comes off when every tensor has it.
  bool all_module = true;
  for (size_t k = 0; k + 1 < sd->items.size(); k += 2) {
    const Value* key = sd->items[k];
    CONVNET_CHECK(key->kind == Value::Str, "pth: '", path, "': the state dict has ", kind_name(key->kind),
                  " key; names must be strings");
    if (sd->items[k + 1]->kind == Value::Tensor && key->s.rfind("module.", 0) != 0) all_module = false;
  }
  for (size_t k = 0; k + 1 < sd->items.size(); k += 2) {
    std::string name = sd->items[k]->s;
    const Value* v = sd->items[k + 1];
    if (v->kind != Value::Tensor) {
      const std::string text = scalar_text(v);
      if (!text.empty() || v->kind == Value::Str) out.metadata[name] = text;
      continue;
    }
    if (all_module) name = name.substr(7);
    const Value* st = v->storage;
    auto it = bytes.find(st->s);
    CONVNET_CHECK(it != bytes.end(), "pth: '", path, "': tensor '", name, "' uses storage '", st->s,
                  "', which the file does not hold");
    const int64_t es = detail::dtype_size(st->dtype);
    const int64_t avail = static_cast<int64_t>(it->second.size()) / es;  // elements in the file
    // The storage range the tensor reads: offset + sum((size-1)*stride), overflow-checked.
    int64_t numel = 1, last = v->offset;
    bool ok = v->offset >= 0;
    for (size_t d = 0; d < v->sizes.size() && ok; ++d) {
      ok = v->sizes[d] >= 0 && v->strides[d] >= 0 && !__builtin_mul_overflow(numel, v->sizes[d], &numel);
      int64_t span = 0;
      if (ok && v->sizes[d] > 0)
        ok = !__builtin_mul_overflow(v->sizes[d] - 1, v->strides[d], &span) &&
             !__builtin_add_overflow(last, span, &last);
    }
    bool negative = v->offset < 0;
    for (size_t d = 0; d < v->sizes.size(); ++d) negative = negative || v->sizes[d] < 0 || v->strides[d] < 0;
    CONVNET_CHECK(!negative, "pth: '", path, "': tensor '", name, "' has a negative size, stride or offset (size ",
                  shape_str(v->sizes), ", stride ", shape_str(v->strides), ", offset ", v->offset, ")");
    const int64_t lo = st->view_offset + v->offset;
    CONVNET_CHECK(ok && (numel == 0 || (last < st->numel && st->view_offset + last < avail)), "pth: '", path,
                  "': tensor '", name, "' of size ", shape_str(v->sizes), ", stride ", shape_str(v->strides),
                  " and offset ", v->offset, " reads past its storage '", st->s, "' of ", st->numel, " elements (",
                  avail, " in the file)");
    CONVNET_CHECK(
        !__builtin_add_overflow(made, numel, &made) && made <= kElementAllowance * storage_elements + (1 << 20),
        "pth: '", path, "': the tensors would hold ", made, " elements, more than ", kElementAllowance,
        "x the storages in the file; views that repeat one storage this often are refused");
    // Gather the elements in row-major order (contiguous tensors are one copy).
    std::string buf(static_cast<size_t>(numel * es), '\0');
    const char* src = it->second.data();
    const int rank = static_cast<int>(v->sizes.size());
    bool contiguous = true;
    int64_t want = 1;  // sizes multiply to numel, which fits
    for (int d = rank - 1; d >= 0; --d) {
      if (v->sizes[d] != 1 && v->strides[d] != want) contiguous = false;
      want *= v->sizes[d];
    }
    if (numel > 0 && contiguous) {
      std::memcpy(buf.data(), src + lo * es, buf.size());
    } else if (numel > 0) {
      std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
      for (int64_t e = 0; e < numel; ++e) {
        int64_t at = lo;
        for (int d = 0; d < rank; ++d) at += idx[d] * v->strides[d];
        std::memcpy(buf.data() + e * es, src + at * es, static_cast<size_t>(es));
        for (int d = rank - 1; d >= 0; --d) {
          if (++idx[d] < v->sizes[d]) break;
          idx[d] = 0;
        }
      }
    }
    CONVNET_CHECK(!out.tensors.count(name), "pth: '", path, "': the state dict has the name '", name, "' twice");
    out.tensors.emplace(name, detail::tensor_from_raw(st->dtype, buf.data(), v->sizes, keep_dtypes));
    out.dtypes.emplace(name, st->dtype);
  }
  CONVNET_CHECK(!out.tensors.empty(), "pth: '", path, "' holds no tensors");
  return out;
}

const unsigned char kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                      0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

SafeTensors load_zip(File& file, bool keep_dtypes) {
  const auto entries = read_zip(file);
  // The one "<dir>/data.pkl"; its storages are "<dir>/data/<key>".
  std::string dir;
  for (const auto& [name, e] : entries) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      CONVNET_CHECK(dir.empty(), "pth: '", file.path, "' holds two data.pkl entries ('", dir, "/data.pkl' and '", name,
                    "')");
      dir = name.substr(0, slash);
    }
  }
  CONVNET_CHECK(!dir.empty(), "pth: '", file.path,
                "' is a zip archive without a <name>/data.pkl entry, so not a file written by torch.save");
  CONVNET_CHECK(!entries.count(dir + "/constants.pkl"), "pth: '", file.path,
                "' is a TorchScript archive (torch.jit.save), which holds code; save model.state_dict() with "
                "torch.save and read that");
  if (auto bo = entries.find(dir + "/byteorder"); bo != entries.end()) {
    const std::string order = read_entry(file, bo->first, bo->second);
    CONVNET_CHECK(order == "little", "pth: '", file.path, "' was written on a '", order.substr(0, 16),
                  "'-endian machine; only little-endian files are read");
  }
  const ZipEntry& pkl = entries.at(dir + "/data.pkl");
  CONVNET_CHECK(pkl.size <= kMaxPickleBytes, "pth: '", file.path, "': data.pkl has ", pkl.size, " bytes; the limit is ",
                kMaxPickleBytes);
  const std::string pickle = read_entry(file, dir + "/data.pkl", pkl);
  Unpickler u(file.path, "data.pkl");
  size_t at = 0;
  const Value* top = u.load(pickle, at);
  StorageBytes bytes;
  for (const auto& [key, st] : u.storages) {
    const std::string name = dir + "/data/" + key;
    auto it = entries.find(name);
    CONVNET_CHECK(it != entries.end(), "pth: '", file.path, "': storage '", key, "' has no entry '", name, "'");
    int64_t need = 0;
    const bool fits = !__builtin_mul_overflow(st->numel, detail::dtype_size(st->dtype), &need);
    CONVNET_CHECK(fits && it->second.size >= need, "pth: '", file.path, "': storage '", key, "' of ", st->numel, " ",
                  st->dtype, " elements needs ", fits ? std::to_string(need) : std::string("more than 2^63"),
                  " bytes, its entry has ", it->second.size);
    bytes.emplace(key, read_entry(file, name, it->second));
  }
  return make_tensors(top, bytes, file.path, keep_dtypes);
}

SafeTensors load_legacy(File& file, bool keep_dtypes) {
  // magic number, protocol version, system info, the object, the storage keys; then each
  // storage in that order as an 8-byte element count and its bytes.
  const std::string data = file.read(0, file.size, "the file");
  size_t at = 0;
  Unpickler head(file.path, "the legacy header");
  const Value* magic = head.load(data, at);
  CONVNET_CHECK(magic->kind == Value::Int && magic->big && magic->s == std::string(kLegacyMagic + 4, kLegacyMagic + 14),
                "pth: '", file.path, "': not a PyTorch legacy file (wrong magic number)");
  const Value* proto = head.load(data, at);
  CONVNET_CHECK(proto->kind == Value::Int && !proto->big && proto->i == 1001, "pth: '", file.path,
                "': legacy protocol version ", scalar_text(proto), ", expected 1001");
  const Value* info = head.load(data, at);
  CONVNET_CHECK(info->kind == Value::Dict, "pth: '", file.path, "': the legacy system info is not a dict");
  for (size_t k = 0; k + 1 < info->items.size(); k += 2)
    if (info->items[k]->kind == Value::Str && info->items[k]->s == "little_endian")
      CONVNET_CHECK(info->items[k + 1]->kind == Value::Bool && info->items[k + 1]->i, "pth: '", file.path,
                    "' was written on a big-endian machine; only little-endian files are read");
  Unpickler u(file.path, "the pickled object");
  const Value* top = u.load(data, at);
  const Value* keys = head.load(data, at);
  CONVNET_CHECK(keys->kind == Value::List, "pth: '", file.path, "': the legacy storage key list is not a list");
  StorageBytes bytes;
  for (const Value* k : keys->items) {
    CONVNET_CHECK(k->kind == Value::Str, "pth: '", file.path, "': a legacy storage key is not a string");
    auto it = u.storages.find(k->s);
    CONVNET_CHECK(it != u.storages.end(), "pth: '", file.path, "': storage '", k->s, "' is listed but never used");
    CONVNET_CHECK(data.size() - at >= 8, "pth: '", file.path, "': storage '", k->s, "' is missing (truncated file)");
    const uint64_t n = le(data, at, 8);
    at += 8;
    const Value* st = it->second;
    CONVNET_CHECK(n == static_cast<uint64_t>(st->numel), "pth: '", file.path, "': storage '", k->s, "' holds ", n,
                  " elements, its description says ", st->numel);
    const uint64_t es = static_cast<uint64_t>(detail::dtype_size(st->dtype));
    CONVNET_CHECK(n <= (data.size() - at) / es, "pth: '", file.path, "': storage '", k->s, "' of ", n,
                  " elements runs past the end of the file (truncated)");
    CONVNET_CHECK(bytes.emplace(k->s, data.substr(at, n * es)).second, "pth: '", file.path, "': storage '", k->s,
                  "' is listed twice");
    at += n * es;
  }
  return make_tensors(top, bytes, file.path, keep_dtypes);
}

std::string head_bytes(const std::string& path, size_t n) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return "";
  std::ifstream f(path, std::ios::binary);
  std::string s(n, '\0');
  f.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<size_t>(std::max<std::streamsize>(f.gcount(), 0)));
  return s;
}

}  // namespace

bool is_pth_file(const std::string& path) {
  const std::string h = head_bytes(path, sizeof kLegacyMagic);
  return h.rfind("PK\x03\x04", 0) == 0 ||
         (h.size() == sizeof kLegacyMagic && std::memcmp(h.data(), kLegacyMagic, sizeof kLegacyMagic) == 0);
}

SafeTensors load_pth(const std::string& path, bool keep_dtypes) {
  File file(path);
  const std::string h = file.read(0, std::min<int64_t>(file.size, sizeof kLegacyMagic), "the first bytes");
  if (h.rfind("PK\x03\x04", 0) == 0) return load_zip(file, keep_dtypes);
  if (h.size() == sizeof kLegacyMagic && std::memcmp(h.data(), kLegacyMagic, sizeof kLegacyMagic) == 0)
    return load_legacy(file, keep_dtypes);
  throw Error("pth: '" + path +
              "' is not a PyTorch file: it is neither a zip archive (torch.save since 1.6) nor a legacy pickle "
              "(older torch.save)");
}

SafeTensors load_tensor_file(const std::string& path, bool keep_dtypes) {
  return is_pth_file(path) ? load_pth(path, keep_dtypes) : load_safetensors(path, keep_dtypes);
}

}  // namespace convnet::io
