// ONNX protobuf plumbing: TensorProto -> values, attribute access with defaults, and
// the small input helpers the operator kernels share.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/onnx_internal.h"

namespace convnet::io {

OnnxValue OnnxValue::of(Tensor t) {
  OnnxValue v;
  v.tensor = std::move(t);
  return v;
}

OnnxValue OnnxValue::of_ints(Shape shape, std::vector<int64_t> values) {
  OnnxValue v;
  v.is_int = true;
  v.int_shape = std::move(shape);
  v.ints = std::move(values);
  return v;
}

std::string OnnxValue::describe() const {
  if (!defined()) return "an absent value";
  return std::string(is_int ? "int64 " : "float ") + shape_str(shape());
}

OnnxValue load_onnx_tensor(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  CONVNET_CHECK(f, "ONNX tensor '", path, "': cannot open the file");
  std::stringstream ss;
  ss << f.rdbuf();
  onnx::TensorProto t;
  CONVNET_CHECK(t.ParseFromString(ss.str()), "ONNX tensor '", path,
                "': not a serialized ONNX TensorProto (protobuf parsing failed)");
  return onnx_impl::value_from_proto(t, "ONNX tensor '" + path + "'",
                                     std::filesystem::path(path).parent_path().string());
}

}  // namespace convnet::io

namespace convnet::io::onnx_impl {

std::string elem_type_name(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT:
      return "float";
    case onnx::TensorProto::DOUBLE:
      return "double";
    case onnx::TensorProto::FLOAT16:
      return "float16";
    case onnx::TensorProto::BFLOAT16:
      return "bfloat16";
    case onnx::TensorProto::INT64:
      return "int64";
    case onnx::TensorProto::INT32:
      return "int32";
    case onnx::TensorProto::INT16:
      return "int16";
    case onnx::TensorProto::INT8:
      return "int8";
    case onnx::TensorProto::UINT64:
      return "uint64";
    case onnx::TensorProto::UINT32:
      return "uint32";
    case onnx::TensorProto::UINT16:
      return "uint16";
    case onnx::TensorProto::UINT8:
      return "uint8";
    case onnx::TensorProto::BOOL:
      return "bool";
    case onnx::TensorProto::STRING:
      return "string";
    default:
      return "type " + std::to_string(t);
  }
}

bool is_float_type(int32_t t) {
  return t == onnx::TensorProto::FLOAT || t == onnx::TensorProto::DOUBLE;
}

namespace {

// Bytes per element of the integer types stored in raw_data (0: not an integer type).
size_t int_size(int32_t t) {
  switch (t) {
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64:
      return 8;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32:
      return 4;
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
      return 2;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
      return 1;
    default:
      return 0;
  }
}

// Little-endian integer of `size` bytes (sign-extended for signed types).
int64_t read_int(const char* p, int32_t t) {
  switch (t) {
    case onnx::TensorProto::INT64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    case onnx::TensorProto::UINT64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<int64_t>(v);
    }
    case onnx::TensorProto::INT32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case onnx::TensorProto::UINT32: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case onnx::TensorProto::INT16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case onnx::TensorProto::UINT16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case onnx::TensorProto::INT8:
      return static_cast<int8_t>(*p);
    default:
      return static_cast<uint8_t>(*p);  // UINT8, BOOL
  }
}

// A non-negative decimal integer of an external_data entry ("offset", "length").
int64_t external_number(const std::string& s, const std::string& key, const std::string& what) {
  int64_t v = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  CONVNET_CHECK(ec == std::errc() && end == s.data() + s.size() && v >= 0, what, ": external data ", key, " '", s,
                "' is not a non-negative 64-bit integer");
  return v;
}

// The bytes of a tensor stored outside the model (TensorProto.data_location = EXTERNAL):
// "location" relative to the model's directory, optional "offset" and "length". As ONNX
// Runtime does (and unlike ONNX before CVE-2022-25882 / CVE-2024-27318), the file must lie
// inside the model's directory once symbolic links are followed: absolute paths, ".." and
// links out of it are refused, so a model cannot read /etc/passwd as its weights.
std::string external_bytes(const onnx::TensorProto& t, const std::string& what, const std::string& base_dir) {
  namespace fs = std::filesystem;
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    if (kv.key() == "offset") offset = external_number(kv.value(), "offset", what);
    if (kv.key() == "length") length = external_number(kv.value(), "length", what);
  }
  CONVNET_CHECK(!location.empty(), what, ": external data without a location");
  const fs::path rel(location);
  CONVNET_CHECK(!rel.is_absolute(), what, ": external data location '", location,
                "' is an absolute path; it must be relative to the model's directory");
  for (const auto& part : rel)
    CONVNET_CHECK(part != "..", what, ": external data location '", location,
                  "' leaves the model's directory (\"..\"); it must lie inside it");
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(base_dir.empty() ? fs::path(".") : fs::path(base_dir), ec);
  const fs::path file = fs::weakly_canonical(dir / rel, ec);
  CONVNET_CHECK(!ec && fs::exists(file), what, ": cannot open its external data file '", (dir / rel).string(), "'");
  const auto [d, f_] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  CONVNET_CHECK(d == dir.end(), what, ": external data location '", location, "' resolves to '", file.string(),
                "', outside the model's directory '", dir.string(), "' (a symbolic link?)");
  CONVNET_CHECK(fs::is_regular_file(file), what, ": external data '", file.string(),
                "' is not a regular file (a directory, FIFO or device)");
  std::ifstream f(file, std::ios::binary);
  CONVNET_CHECK(f, what, ": cannot open its external data file '", file.string(), "'");
  f.seekg(0, std::ios::end);
  const int64_t size = f.tellg();
  CONVNET_CHECK(offset <= size, what, ": external data offset ", offset, " lies past the end of '", file.string(),
                "' (", size, " bytes)");
  if (length < 0) length = size - offset;
  CONVNET_CHECK(length <= size - offset, what, ": external data [", offset, ", ", offset, " + ", length,
                ") lies outside '", file.string(), "' (", size, " bytes)");
  std::string bytes(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(bytes.data(), length);
  CONVNET_CHECK(f.good() || length == 0, what, ": read error in '", file.string(), "'");
  return bytes;
}

}  // namespace

OnnxValue value_from_proto(const onnx::TensorProto& t, const std::string& what, const std::string& base_dir) {
  CONVNET_CHECK(t.dims_size() <= 32, what, ": rank ", t.dims_size(), " (the limit is 32)");
  Shape shape(t.dims().begin(), t.dims().end());
  for (int64_t d : shape) CONVNET_CHECK(d >= 0, what, ": negative dimension in shape ", shape_str(shape));
  int64_t n = 1;
  for (int64_t d : shape)
    CONVNET_CHECK(!__builtin_mul_overflow(n, d, &n), what, ": shape ", shape_str(shape),
                  " has more than 2^63 elements");
  const int32_t type = t.data_type();
  const bool external = t.data_location() == onnx::TensorProto::EXTERNAL;
  const int typed = t.float_data_size() + t.double_data_size() + t.int32_data_size() + t.int64_data_size() +
                    t.uint64_data_size() + t.string_data_size();
  CONVNET_CHECK(!((external || t.has_raw_data()) && typed > 0), what,
                ": holds its values twice, in raw_data (or external data) and in a typed field; a tensor has one");
  CONVNET_CHECK(!(external && t.has_raw_data() && !t.raw_data().empty()), what,
                ": is marked EXTERNAL but also holds raw_data");
  std::string ext;
  if (external) ext = external_bytes(t, what, base_dir);
  const std::string& raw = external ? ext : t.raw_data();
  const bool has_raw = external || t.has_raw_data();
  // Checked before the values are allocated, so dims claiming billions cost nothing.
  auto check_count = [&](int64_t got, const char* field) {
    CONVNET_CHECK(got == n, what, ": ", elem_type_name(type), " tensor of shape ", shape_str(shape), " needs ", n,
                  " values, ", field, " holds ", got);
  };

  if (type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE) {
    const bool dbl = type == onnx::TensorProto::DOUBLE;
    if (has_raw)
      check_count(static_cast<int64_t>(raw.size() / (dbl ? 8 : 4)), "raw_data");
    else
      check_count(dbl ? t.double_data_size() : t.float_data_size(), dbl ? "double_data" : "float_data");
    std::vector<float> v(static_cast<size_t>(n));
    if (has_raw) {
      for (int64_t i = 0; i < n; ++i) {
        if (dbl) {
          double d;
          std::memcpy(&d, raw.data() + 8 * i, 8);
          v[i] = static_cast<float>(d);
        } else {
          std::memcpy(&v[i], raw.data() + 4 * i, 4);
        }
      }
    } else if (dbl) {
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(t.double_data(static_cast<int>(i)));
    } else {
      for (int64_t i = 0; i < n; ++i) v[i] = t.float_data(static_cast<int>(i));
    }
    return OnnxValue::of(Tensor::from_vector(shape, std::move(v)));
  }

  const size_t size = int_size(type);
  CONVNET_CHECK(size > 0, what, ": data type ", elem_type_name(type),
                " is not supported (float, double and integer types are)");
  const bool u64 = type == onnx::TensorProto::UINT64 || type == onnx::TensorProto::UINT32;
  if (has_raw)
    check_count(static_cast<int64_t>(raw.size() / size), "raw_data");
  else if (type == onnx::TensorProto::INT64)
    check_count(t.int64_data_size(), "int64_data");
  else if (u64)
    check_count(t.uint64_data_size(), "uint64_data");
  else
    check_count(t.int32_data_size(), "int32_data");
  std::vector<int64_t> v(static_cast<size_t>(n));
  if (has_raw) {
    for (int64_t i = 0; i < n; ++i) v[i] = read_int(raw.data() + size * i, type);
  } else if (type == onnx::TensorProto::INT64) {
    for (int64_t i = 0; i < n; ++i) v[i] = t.int64_data(static_cast<int>(i));
  } else if (u64) {
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(t.uint64_data(static_cast<int>(i)));
  } else {
    for (int64_t i = 0; i < n; ++i) v[i] = t.int32_data(static_cast<int>(i));
  }
  return OnnxValue::of_ints(shape, std::move(v));
}

// ---- NodeView ------------------------------------------------------------------------

const onnx::AttributeProto* NodeView::find(const std::string& attr) const {
  for (const auto& a : node_.attribute())
    if (a.name() == attr) return &a;
  return nullptr;
}

bool NodeView::has(const std::string& attr) const {
  return find(attr) != nullptr;
}

namespace {
void check_type(const onnx::AttributeProto& a, onnx::AttributeProto::AttributeType want, const char* want_name,
                const std::string& label) {
  CONVNET_CHECK(a.type() == want, label, ": attribute '", a.name(), "' should be ", want_name, ", got type ",
                onnx::AttributeProto::AttributeType_Name(a.type()));
}
}  // namespace

int64_t NodeView::get_int(const std::string& attr, int64_t def) const {
  const auto* a = find(attr);
  if (!a) return def;
  check_type(*a, onnx::AttributeProto::INT, "an int", label_);
  return a->i();
}

float NodeView::get_float(const std::string& attr, float def) const {
  const auto* a = find(attr);
  if (!a) return def;
  check_type(*a, onnx::AttributeProto::FLOAT, "a float", label_);
  return a->f();
}

std::string NodeView::get_string(const std::string& attr, const std::string& def) const {
  const auto* a = find(attr);
  if (!a) return def;
  check_type(*a, onnx::AttributeProto::STRING, "a string", label_);
  return a->s();
}

std::vector<int64_t> NodeView::get_ints(const std::string& attr, std::vector<int64_t> def) const {
  const auto* a = find(attr);
  if (!a) return def;
  check_type(*a, onnx::AttributeProto::INTS, "a list of ints", label_);
  return {a->ints().begin(), a->ints().end()};
}

std::vector<float> NodeView::get_floats(const std::string& attr) const {
  const auto* a = find(attr);
  if (!a) return {};
  check_type(*a, onnx::AttributeProto::FLOATS, "a list of floats", label_);
  return {a->floats().begin(), a->floats().end()};
}

const onnx::TensorProto* NodeView::get_tensor(const std::string& attr) const {
  const auto* a = find(attr);
  if (!a) return nullptr;
  check_type(*a, onnx::AttributeProto::TENSOR, "a tensor", label_);
  return &a->t();
}

// ---- kernel helpers --------------------------------------------------------------------

namespace {
const OnnxValue& present(const Inputs& in, size_t i, const char* what) {
  CONVNET_CHECK(i < in.size() && in[i] && in[i]->defined(), what, " (input ", i, ") is missing");
  return *in[i];
}
}  // namespace

const Tensor& float_input(const Inputs& in, size_t i, const char* what) {
  const OnnxValue& v = present(in, i, what);
  CONVNET_CHECK(!v.is_int, what, " (input ", i, ") must be float data, got ", v.describe());
  return v.tensor;
}

const OnnxValue& int_input(const Inputs& in, size_t i, const char* what) {
  const OnnxValue& v = present(in, i, what);
  CONVNET_CHECK(v.is_int, what, " (input ", i, ") must be integer data, got ", v.describe());
  return v;
}

double scalar_input(const Inputs& in, size_t i, const char* what) {
  const OnnxValue& v = present(in, i, what);
  const int64_t n = shape_numel(v.shape());
  CONVNET_CHECK(n == 1, what, " (input ", i, ") must hold one value, got ", v.describe());
  return v.is_int ? static_cast<double>(v.ints[0]) : static_cast<double>(v.tensor.data()[0]);
}

std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

int64_t norm_axis(int64_t axis, int64_t rank, const char* what) {
  CONVNET_CHECK(axis >= -rank && axis < rank, what, " ", axis, " is out of range for rank ", rank, " (expected in [",
                -rank, ", ", rank - 1, "])");
  return axis < 0 ? axis + rank : axis;
}

}  // namespace convnet::io::onnx_impl
