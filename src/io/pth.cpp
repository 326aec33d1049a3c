// PyTorch state-dict files (.pth) without Python: the zip format of torch.save since 1.6
// (pth_zip.h), the legacy format before it, and the state dict made from what the
// restricted unpickler (pth_unpickler.h) read.
//
// Bounds (docs/security.md): the unpickler's caps; zip entries checked against the file
// size before anything is read; the tensors made may hold at most 4x the elements of the
// storages in the file.
#include "convnet/io/pth.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "convnet/core/error.h"
#include "pth_unpickler.h"
#include "pth_zip.h"
#include "raw_dtype.h"

namespace convnet::io {

namespace {

using namespace pth_impl;

constexpr int64_t kMaxPickleBytes = int64_t{64} << 20;
constexpr int64_t kElementAllowance = 4;  // tensors made / storage elements in the file

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
