#include "convnet/io/safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <vector>

#include "convnet/core/error.h"
#include "raw_dtype.h"

namespace convnet::io {

namespace {
constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr size_t kMaxShapeRank = 32;
constexpr int kMaxJsonDepth = 64;

// nlohmann's parse callback: refuses nesting deeper than kMaxJsonDepth and duplicate keys in
// an object (the parser would otherwise keep the last copy silently).
nlohmann::json::parser_callback_t strict_json_callback(const std::string& what) {
  auto keys = std::make_shared<std::vector<std::set<std::string>>>();
  return [keys, what](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (depth > kMaxJsonDepth)
      throw Error(what + ": the header nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    if (ev == E::object_start) keys->emplace_back();
    if (ev == E::object_end && !keys->empty()) keys->pop_back();
    if (ev == E::key && !keys->empty() && !keys->back().insert(parsed.get<std::string>()).second)
      throw Error(what + ": the header has the key '" + parsed.get<std::string>() + "' twice in one object");
    return true;
  };
}

}  // namespace

namespace detail {
int64_t dtype_size(const std::string& dt) {
  if (dt == "F32" || dt == "I32") return 4;
  if (dt == "F64" || dt == "I64") return 8;
  if (dt == "BF16" || dt == "F16" || dt == "I16") return 2;
  if (dt == "U8" || dt == "I8" || dt == "BOOL") return 1;
  return 0;
}

// The safetensors name of a tensor dtype, and the dtype a stored one is kept as.
const char* st_name(DType t) {
  switch (t) {
    case DType::float32:
      return "F32";
    case DType::bfloat16:
      return "BF16";
    case DType::float16:
      return "F16";
    case DType::int64:
      return "I64";
    case DType::int32:
      return "I32";
    case DType::uint8:
      return "U8";
    case DType::bool_:
      return "BOOL";
  }
  return "?";
}
bool kept_as(const std::string& dt, DType& out) {
  for (DType t : {DType::float32, DType::bfloat16, DType::float16, DType::int64, DType::int32, DType::uint8,
                  DType::bool_})
    if (dt == st_name(t)) {
      out = t;
      return true;
    }
  return false;  // F64, I8: converted to float32
}

float convert(const std::string& dt, const char* p) {
  if (dt == "F32") { float v; std::memcpy(&v, p, 4); return v; }
  if (dt == "F64") { double v; std::memcpy(&v, p, 8); return static_cast<float>(v); }
  if (dt == "I64") { int64_t v; std::memcpy(&v, p, 8); return static_cast<float>(v); }
  if (dt == "I32") { int32_t v; std::memcpy(&v, p, 4); return static_cast<float>(v); }
  if (dt == "I8") return static_cast<float>(static_cast<int8_t>(*p));
  if (dt == "I16") {
    int16_t v;
    std::memcpy(&v, p, 2);
    return static_cast<float>(v);
  }
  if (dt == "BF16" || dt == "F16") {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return dt == "BF16" ? from_bf16({b}) : from_f16({b});
  }
  return static_cast<float>(static_cast<uint8_t>(*p));
}
Tensor tensor_from_raw(const std::string& dt, const char* p, const Shape& shape, bool keep_dtypes) {
  DType keep;
  if (keep_dtypes && kept_as(dt, keep)) {
    Tensor t = Tensor::empty(shape, keep);
    const auto n = static_cast<size_t>(t.numel() * convnet::dtype_size(keep));
    if (n) std::memcpy(t.raw_ptr(), p, n);
    return t;
  }
  Tensor t = Tensor::empty(shape);
  float* q = t.data();
  const int64_t es = dtype_size(dt);
  if (dt == "F32") {
    if (t.numel()) std::memcpy(q, p, static_cast<size_t>(t.numel()) * 4);
  } else {
    for (int64_t i = 0; i < t.numel(); ++i) q[i] = convert(dt, p + i * es);
  }
  return t;
}
}  // namespace detail
using namespace detail;

SafeTensors load_safetensors(const std::string& path, bool keep_dtypes) {
  // As strict as the reference implementation (huggingface/safetensors): a header of at most
  // 100 MB that is one JSON object without duplicate keys, string-to-string metadata, and
  // tensors whose byte ranges are contiguous and cover the data section exactly. Everything
  // is checked before any tensor is allocated, so a file can make us allocate no more than
  // its own size (plus the float32 widening of 8- and 16-bit dtypes).
  namespace fs = std::filesystem;
  std::error_code ec;
  CONVNET_CHECK(fs::exists(path, ec), "safetensors: cannot open '", path, "' (no such file or not readable)");
  CONVNET_CHECK(fs::is_regular_file(path, ec), "safetensors: '", path,
                "' is not a regular file (a directory, FIFO or device); give a .safetensors file");
  std::ifstream f(path, std::ios::binary);
  CONVNET_CHECK(f.good(), "safetensors: cannot open '", path, "' (no such file or not readable)");
  f.seekg(0, std::ios::end);
  const int64_t file_size = f.tellg();
  f.seekg(0);
  CONVNET_CHECK(file_size >= 8, "safetensors: '", path, "' is too short (", file_size,
                " bytes) to hold the 8-byte header length");
  unsigned char len_bytes[8];
  f.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | len_bytes[i];
  CONVNET_CHECK(hlen <= static_cast<uint64_t>(file_size - 8), "safetensors: '", path, "' declares a ", hlen,
                "-byte header but the file has only ", file_size - 8, " bytes after the length; truncated or not a safetensors file");
  CONVNET_CHECK(hlen <= kMaxHeaderBytes, "safetensors: '", path, "' declares a ", hlen, "-byte header; the limit is ",
                kMaxHeaderBytes, " bytes (as the reference implementation's)");
  std::string header(hlen, '\0');
  f.read(header.data(), static_cast<std::streamsize>(hlen));
  CONVNET_CHECK(f.good(), "safetensors: '", path, "': read error in the header");
  CONVNET_CHECK(!header.empty() && header[0] == '{', "safetensors: '", path,
                "': the header is not a JSON object: it must start with '{' (no byte-order mark or leading space)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header, strict_json_callback("safetensors: '" + path + "'"));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("safetensors: '" + path + "' has a header that is not valid JSON: " + e.what());
  }
  CONVNET_CHECK(j.is_object(), "safetensors: '", path, "' header is not a JSON object");
  const int64_t data_size = file_size - 8 - static_cast<int64_t>(hlen);

  struct Entry {
    std::string name, dt;
    Shape shape;
    int64_t begin, end, es;
  };
  SafeTensors out;
  std::vector<Entry> entries;
  for (auto& [name, info] : j.items()) {
    if (name == "__metadata__") {
      CONVNET_CHECK(info.is_object(), "safetensors: '", path, "': __metadata__ must be an object of strings, got ",
                    info.type_name());
      for (auto& [k, v] : info.items()) {
        CONVNET_CHECK(v.is_string(), "safetensors: '", path, "': __metadata__ value '", k,
                      "' must be a string, got a JSON ", v.type_name());
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    CONVNET_CHECK(info.is_object(), "safetensors: '", path, "': entry '", name, "' is not a JSON object");
    CONVNET_CHECK(info.contains("dtype") && info.contains("shape") && info.contains("data_offsets"), "safetensors: '",
                  path, "': entry '", name, "' lacks dtype, shape or data_offsets");
    CONVNET_CHECK(info.size() == 3, "safetensors: '", path, "': entry '", name,
                  "' has keys other than dtype, shape and data_offsets");
    CONVNET_CHECK(info["dtype"].is_string() && info["shape"].is_array() && info["data_offsets"].is_array() &&
                      info["data_offsets"].size() == 2,
                  "safetensors: '", path, "': entry '", name, "' has a malformed dtype, shape or data_offsets");
    CONVNET_CHECK(info["shape"].size() <= kMaxShapeRank, "safetensors: '", path, "': tensor '", name, "' has rank ",
                  info["shape"].size(), "; the limit is ", kMaxShapeRank);
    Entry e;
    e.name = name;
    for (const auto& d : info["shape"]) {
      CONVNET_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), "safetensors: '",
                    path, "': tensor '", name,
                    "' has a shape entry that is not a non-negative 64-bit integer: ", d.dump());
      e.shape.push_back(d.get<int64_t>());
    }
    for (const auto& d : info["data_offsets"])
      CONVNET_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), "safetensors: '",
                    path, "': tensor '", name,
                    "' has a data_offsets entry that is not a non-negative 64-bit integer: ", d.dump());
    e.dt = info["dtype"].get<std::string>();
    e.es = dtype_size(e.dt);
    CONVNET_CHECK(e.es > 0, "safetensors: '", path, "': tensor '", name, "' has unsupported dtype ", e.dt,
                  " (supported: F32, F64, BF16, F16, I64, I32, I16, I8, U8, BOOL)");
    e.begin = info["data_offsets"][0].get<int64_t>(), e.end = info["data_offsets"][1].get<int64_t>();
    CONVNET_CHECK(e.end >= e.begin && e.end <= data_size, "safetensors: '", path, "': tensor '", name,
                  "' data_offsets [", e.begin, ", ", e.end, "] lie outside the ", data_size,
                  "-byte data section (truncated file?)");
    int64_t numel = 0, bytes = 0;
    const bool fits = [&] {
      numel = 1;
      for (int64_t d : e.shape)
        if (__builtin_mul_overflow(numel, d, &numel)) return false;
      return !__builtin_mul_overflow(numel, e.es, &bytes);
    }();
    CONVNET_CHECK(fits && bytes == e.end - e.begin, "safetensors: '", path, "': tensor '", name, "' of shape ",
                  shape_str(e.shape), " and dtype ", e.dt, " needs ",
                  fits ? std::to_string(bytes) : std::string("more than 2^63"), " bytes, data_offsets give ",
                  e.end - e.begin);
    entries.push_back(std::move(e));
  }
  // The byte ranges, in order, must tile the data section: no overlap (two tensors sharing
  // bytes), no hole and no trailing bytes (data that belongs to no tensor).
  std::vector<const Entry*> order;
  for (const auto& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(),
            [](const Entry* a, const Entry* b) { return std::tie(a->begin, a->end) < std::tie(b->begin, b->end); });
  int64_t at = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : order) {
    CONVNET_CHECK(e->begin >= at, "safetensors: '", path, "': tensors '", prev ? prev->name : "", "' and '", e->name,
                  "' have overlapping data_offsets [", prev ? prev->begin : 0, ", ", at, ") and [", e->begin, ", ",
                  e->end, ")");
    CONVNET_CHECK(e->begin == at, "safetensors: '", path, "': bytes [", at, ", ", e->begin,
                  ") of the data section belong to no tensor (a hole before '", e->name, "')");
    at = e->end;
    prev = e;
  }
  CONVNET_CHECK(at == data_size, "safetensors: '", path, "': the data section has ", data_size - at,
                " trailing bytes after the last tensor (", data_size, " bytes, tensors cover ", at, ")");

  // Now the data: each tensor read straight into its own storage.
  const int64_t data_start = 8 + static_cast<int64_t>(hlen);
  std::vector<char> buf;
  for (const auto& e : entries) {
    DType keep;
    Tensor t;
    const auto n = static_cast<size_t>(e.end - e.begin);
    if (keep_dtypes && kept_as(e.dt, keep)) {
      t = Tensor::empty(e.shape, keep);
      f.seekg(data_start + e.begin);
      if (n) f.read(static_cast<char*>(t.raw_ptr()), static_cast<std::streamsize>(n));
    } else {
      t = Tensor::empty(e.shape);
      float* p = t.data();
      f.seekg(data_start + e.begin);
      if (e.dt == "F32") {
        if (n) f.read(reinterpret_cast<char*>(p), static_cast<std::streamsize>(n));
      } else {
        buf.resize(n);
        if (n) f.read(buf.data(), static_cast<std::streamsize>(n));
        for (int64_t i = 0; i < t.numel(); ++i) p[i] = convert(e.dt, buf.data() + i * e.es);
      }
    }
    CONVNET_CHECK(f.good(), "safetensors: '", path, "': read error in the data of tensor '", e.name, "'");
    out.tensors.emplace(e.name, t);
    out.dtypes.emplace(e.name, e.dt);
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json j = nlohmann::json::object();
  int64_t off = 0;
  for (const auto& [name, t] : tensors) {
    CONVNET_CHECK(t.device().is_cpu(), "safetensors: tensor '", name, "' for '", path, "' is on ",
                  device_name(t.device()), "; move it to the cpu first");
    const int64_t bytes = t.numel() * convnet::dtype_size(t.dtype());
    j[name] = {{"dtype", st_name(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {off, off + bytes}}};
    off += bytes;
  }
  if (!metadata.empty()) j["__metadata__"] = metadata;
  std::string header = j.dump();
  while ((header.size() + 8) % 8) header += ' ';  // keep the data 8-byte aligned
  const std::string tmp = path + ".tmp";
  // Write, flush to disk, then rename: a crash or kill at any point leaves either the old
  // file or the complete new one under `path`, never a half-written one.
  FILE* f = std::fopen(tmp.c_str(), "wb");
  CONVNET_CHECK(f != nullptr, "safetensors: cannot write '", tmp, "'");
  uint64_t hlen = header.size();
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>((hlen >> (8 * i)) & 0xff);
  bool ok = std::fwrite(len_bytes, 1, 8, f) == 8 && std::fwrite(header.data(), 1, header.size(), f) == header.size();
  for (const auto& [name, t] : tensors) {
    const auto bytes = static_cast<size_t>(t.numel() * convnet::dtype_size(t.dtype()));
    ok = ok && (bytes == 0 || std::fwrite(t.raw_ptr(), 1, bytes, f) == bytes);
  }
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) std::remove(tmp.c_str());
  CONVNET_CHECK(ok, "safetensors: write to '", tmp, "' failed (disk full?)");
  CONVNET_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "safetensors: cannot rename '", tmp, "' to '", path, "'");
}

}  // namespace convnet::io
