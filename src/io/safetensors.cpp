#include "convnet/io/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "convnet/core/error.h"

namespace convnet::io {

namespace {
int64_t dtype_size(const std::string& dt) {
  if (dt == "F32" || dt == "I32") return 4;
  if (dt == "F64" || dt == "I64") return 8;
  if (dt == "BF16" || dt == "F16") return 2;
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
  if (dt == "BF16" || dt == "F16") {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return dt == "BF16" ? from_bf16({b}) : from_f16({b});
  }
  return static_cast<float>(static_cast<uint8_t>(*p));
}
}  // namespace

SafeTensors load_safetensors(const std::string& path, bool keep_dtypes) {
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
  std::string header(hlen, '\0');
  f.read(header.data(), static_cast<std::streamsize>(hlen));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    throw Error("safetensors: '" + path + "' has a header that is not valid JSON: " + e.what());
  }
  CONVNET_CHECK(j.is_object(), "safetensors: '", path, "' header is not a JSON object");
  const int64_t data_size = file_size - 8 - static_cast<int64_t>(hlen);
  std::vector<char> data(static_cast<size_t>(data_size));
  f.read(data.data(), data_size);
  CONVNET_CHECK(f.good(), "safetensors: '", path, "': read error");

  SafeTensors out;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::vector<std::string> range_names;
  for (auto& [name, info] : j.items()) {
    if (name == "__metadata__") {
      for (auto& [k, v] : info.items())
        out.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
      continue;
    }
    CONVNET_CHECK(info.is_object(), "safetensors: '", path, "': entry '", name, "' is not a JSON object");
    CONVNET_CHECK(info.contains("dtype") && info.contains("shape") && info.contains("data_offsets"), "safetensors: '",
                  path, "': entry '", name, "' lacks dtype, shape or data_offsets");
    CONVNET_CHECK(info["dtype"].is_string() && info["shape"].is_array() && info["data_offsets"].is_array() &&
                      info["data_offsets"].size() == 2,
                  "safetensors: '", path, "': entry '", name, "' has a malformed dtype, shape or data_offsets");
    for (const auto& d : info["shape"])
      CONVNET_CHECK(d.is_number_unsigned(), "safetensors: '", path, "': tensor '", name, "' has a shape entry that is not a non-negative integer");
    for (const auto& d : info["data_offsets"])
      CONVNET_CHECK(d.is_number_unsigned(), "safetensors: '", path, "': tensor '", name, "' has a data_offsets entry that is not a non-negative integer");
    const std::string dt = info["dtype"].get<std::string>();
    const int64_t es = dtype_size(dt);
    CONVNET_CHECK(es > 0, "safetensors: '", path, "': tensor '", name, "' has unsupported dtype ", dt,
                  " (supported: F32, F64, BF16, F16, I64, I32, I8, U8, BOOL)");
    Shape shape = info["shape"].get<Shape>();
    const int64_t b = info["data_offsets"][0].get<int64_t>(), e = info["data_offsets"][1].get<int64_t>();
    CONVNET_CHECK(b >= 0 && e >= b && e <= data_size, "safetensors: '", path, "': tensor '", name, "' data_offsets [",
                  b, ", ", e, "] lie outside the ", data_size, "-byte data section (truncated file?)");
    CONVNET_CHECK((e - b) == shape_numel(shape) * es, "safetensors: '", path, "': tensor '", name, "' of shape ",
                  shape_str(shape), " and dtype ", dt, " needs ", shape_numel(shape) * es, " bytes, data_offsets give ",
                  e - b);
    ranges.emplace_back(b, e);
    range_names.push_back(name);
    DType keep;
    Tensor t;
    if (keep_dtypes && kept_as(dt, keep)) {
      t = Tensor::empty(shape, keep);
      if (e > b) std::memcpy(t.raw_ptr(), data.data() + b, static_cast<size_t>(e - b));
    } else {
      t = Tensor::empty(shape);
      float* p = t.data();
      if (dt == "F32") {
        if (e > b) std::memcpy(p, data.data() + b, static_cast<size_t>(e - b));
      } else {
        for (int64_t i = 0; i < t.numel(); ++i) p[i] = convert(dt, data.data() + b + i * es);
      }
    }
    out.tensors.emplace(name, t);
    out.dtypes.emplace(name, dt);
  }
  // Tensors must not share bytes: overlapping ranges mean a corrupt or hostile header.
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  for (size_t i = 1; i < order.size(); ++i) {
    const auto& prev = ranges[order[i - 1]];
    const auto& cur = ranges[order[i]];
    CONVNET_CHECK(cur.first >= prev.second || cur.first == cur.second || prev.first == prev.second, "safetensors: '",
                  path, "': tensors '", range_names[order[i - 1]], "' and '", range_names[order[i]],
                  "' have overlapping data_offsets [", prev.first, ", ", prev.second, ") and [", cur.first, ", ",
                  cur.second, ")");
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
