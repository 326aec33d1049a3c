#include "convnet/core/shape.h"

#include <string>

#include "convnet/core/error.h"

namespace convnet {

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + ")";
}

int64_t shape_numel(const Shape& s) {
  // Overflow-checked: a shape read from a file may claim dimensions whose product wraps.
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n)) throw Error("shape " + shape_str(s) + " has more than 2^63 elements");
  return n;
}

}  // namespace convnet
