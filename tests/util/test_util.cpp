#include "util/test_util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <regex>
#include <sstream>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"

namespace convnet::testing {

std::string fixture_dir() {
  return CONVNET_FIXTURE_DIR;
}

std::vector<std::string> fixture_files(const std::string& prefix) {
  std::vector<std::string> out;
  namespace fs = std::filesystem;
  if (fs::exists(fixture_dir()))
    for (const auto& e : fs::directory_iterator(fixture_dir())) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".safetensors") out.push_back(e.path().string());
    }
  std::sort(out.begin(), out.end());
  EXPECT_FALSE(out.empty()) << "no PyTorch fixtures '" << prefix << "*' in " << fixture_dir()
                            << " (run python/gen_fixtures.py, or ctest which runs it first)";
  return out;
}

io::SafeTensors load_fixture(const std::string& path) {
  return io::load_safetensors(path);
}

nlohmann::json fixture_config(const io::SafeTensors& f) {
  auto it = f.metadata.find("config");
  return it == f.metadata.end() ? nlohmann::json::object() : nlohmann::json::parse(it->second);
}

const Tensor& fixture_tensor(const io::SafeTensors& f, const std::string& name) {
  auto it = f.tensors.find(name);
  if (it == f.tensors.end()) throw Error("fixture has no tensor '" + name + "'");
  return it->second;
}

::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (!a.defined() || !b.defined()) return ::testing::AssertionFailure() << "undefined tensor";
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(a.shape()) << " vs " << shape_str(b.shape());
  std::vector<double> va(a.data(), a.data() + a.numel()), vb(b.data(), b.data() + b.numel());
  return all_close(va, vb, rtol, atol);
}

::testing::AssertionResult all_close(const std::vector<double>& a, const std::vector<double>& b, double rtol,
                                     double atol) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "size " << a.size() << " vs " << b.size();
  double worst = -1;
  size_t wi = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(a[i] - b[i]) - (atol + rtol * std::abs(b[i]));
    if (!(err <= 0) && (worst < 0 || err > worst || std::isnan(err))) {
      worst = std::isnan(err) ? 1e300 : err;
      wi = i;
    }
  }
  if (worst < 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "element " << wi << ": got " << a[wi] << ", expected " << b[wi] << " (|diff| "
                                       << std::abs(a[wi] - b[wi]) << " > atol " << atol << " + rtol " << rtol
                                       << " * |expected|)";
}

void backward_with(const Tensor& out, const Tensor& g) {
  out.backward(g);
}

std::vector<double> numeric_grad(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x,
                                 double h) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i];
    x[i] = xi + h;
    const double fp = f(x);
    x[i] = xi - h;
    const double fm = f(x);
    x[i] = xi;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

std::vector<double> random_doubles(size_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> v(n);
  for (auto& x : v) x = gen.uniform(-1.f, 1.f);
  return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

CommandResult run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed: " + cmd};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

CommandResult run_cli(const std::string& args) {
  return run_command(std::string(CONVNET_CLI) + " " + args);
}

namespace {

// python/test_worker.py, started on the first run_python() of a test program and kept for
// the others (the model tests run ~100 fixture scripts; torch's import is ~2 s of CPU each
// time). Its pipes are close-on-exec here, so the programs that tests start do not hold
// them open; the worker sees the end of its input when this program exits.
class PythonWorker {
 public:
  ~PythonWorker() { stop(); }

  // The script's exit status and output; status -1 with a message when the worker died
  // (the next request starts a fresh one).
  CommandResult run(const std::string& command_line) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string line = command_line + "\n";
    // A worker that has exited since the last call (killed, or a script's os._exit after its
    // reply) refuses the request: start a fresh one and send it again, once.
    bool sent = false;
    for (int attempt = 0; attempt < 2 && !sent; ++attempt) {
      if (pid_ <= 0 && !start()) return {-1, "could not start python/test_worker.py"};
      sent = send_all(line);
      if (!sent) stop();
    }
    if (!sent || !read_reply()) {
      stop();
      return {-1, "python/test_worker.py died running: " + command_line + "\n" + reply_};
    }
    return {status_, reply_};
  }

 private:
  bool start() {
    // Requests go through a socket, so that a worker gone away is an EPIPE (send with
    // MSG_NOSIGNAL), not a SIGPIPE that would end the test program; replies through a pipe.
    int in[2], out[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) return false;
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]), close(in[1]);
      return false;
    }
    const std::string script = std::string(CONVNET_SOURCE_DIR) + "/python/test_worker.py";
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);  // dup2 clears close-on-exec on 0 and 1
      dup2(out[1], 1);
      execl("/usr/bin/python3", "python3", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]), close(out[1]);
    if (pid_ < 0) {
      close(in[1]), close(out[0]);
      return false;
    }
    to_ = in[1], from_ = out[0];
    return true;
  }
  void stop() {
    if (to_ >= 0) close(to_);
    if (from_ >= 0) close(from_);
    to_ = from_ = -1;
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool send_all(const std::string& s) {
    for (size_t done = 0; done < s.size();) {
      const ssize_t n = send(to_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // "<status> <bytes>\n" and the bytes, into status_ and reply_.
  bool read_reply() {
    reply_.clear();
    std::string header;
    char c;
    while (true) {
      const ssize_t n = read(from_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      if (c == '\n') break;
      header += c;
    }
    size_t bytes = 0;
    if (std::sscanf(header.c_str(), "%d %zu", &status_, &bytes) != 2) return false;
    reply_.resize(bytes);
    for (size_t done = 0; done < bytes;) {
      const ssize_t n = read(from_, reply_.data() + done, bytes - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  std::mutex mu_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1, status_ = 0;
  std::string reply_;
};

}  // namespace

std::string run_python(const std::string& script_and_args) {
  CONVNET_CHECK(script_and_args.find('\n') == std::string::npos, "run_python: one line expected");
  static PythonWorker worker;
  const std::string cmd = std::string(CONVNET_SOURCE_DIR) + "/python/" + script_and_args;
  const CommandResult r = worker.run(cmd);
  if (r.status != 0)
    throw std::runtime_error("python/" + script_and_args + " failed (status " + std::to_string(r.status) +
                             ", in python/test_worker.py):\n" + r.out);
  return r.out;
}

double final_accuracy(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("final test accuracy: ([0-9.]+)%"))) return -1;
  return std::stod(m[1]) / 100.0;
}

void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message lacks '" << p << "': " << msg;
    return;
  }
  ADD_FAILURE() << "expected convnet::Error";
}

TempDir::TempDir(const std::string& tag)
    : path(std::filesystem::temp_directory_path() / ("convnet_" + tag + "_" + std::to_string(::getpid()))) {
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::string test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info ? info->name() : "none";
}

}  // namespace convnet::testing
