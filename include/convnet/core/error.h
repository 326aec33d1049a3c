#pragma once
#pragma GCC visibility push(default)
/// \file
/// convnet::Error, the one exception type of the library, and the CONVNET_CHECK macro that
/// throws it. Messages name the op or layer and the shapes or values involved, so a user
/// can act on them.
#include <sstream>
#include <stdexcept>
#include <string>

namespace convnet {

/// The exception every convnet function throws for a bad argument, a failed check or a
/// resource it cannot get (a file, memory, a device). A std::runtime_error, so `what()`
/// gives the message.
class Error : public std::runtime_error {
 public:
  /// An error with message `msg`.
  /// \post `what()` returns `msg`.
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

namespace detail {
// Hidden: each binary keeps its own instantiations (the library would otherwise export one
// per message shape of CONVNET_CHECK).
template <class... Args>
__attribute__((visibility("hidden"))) std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace convnet

/// `CONVNET_CHECK(cond, parts...)`: when `cond` is false, throws convnet::Error whose
/// message is the `parts` written one after the other to a std::ostringstream.
/// \pre  every part can be written with `operator<<` to a std::ostream.
/// \post nothing happens when `cond` is true; the parts are evaluated only when it is false.
/// \throws convnet::Error with the concatenated parts when `cond` is false.
#define CONVNET_CHECK(cond, ...)                                 \
  do {                                                           \
    if (!(cond)) throw ::convnet::Error(::convnet::detail::cat(__VA_ARGS__)); \
  } while (0)
#pragma GCC visibility pop
