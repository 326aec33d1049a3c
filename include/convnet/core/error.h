#pragma once
// convnet::Error: the one exception type of the library. Messages name the op or
// layer and the shapes or values involved, so a user can act on them.
#include <sstream>
#include <stdexcept>
#include <string>

namespace convnet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

namespace detail {
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace convnet

// CONVNET_CHECK(cond, parts...): throws convnet::Error with the concatenated parts.
#define CONVNET_CHECK(cond, ...)                                 \
  do {                                                           \
    if (!(cond)) throw ::convnet::Error(::convnet::detail::cat(__VA_ARGS__)); \
  } while (0)
