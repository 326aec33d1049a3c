// run_python() (tests/util/test_util.cpp) runs the scripts of python/ in one long-lived
// python/test_worker.py per test program. These tests hold it to what a fresh interpreter
// per script gave: the script's arguments, all of its output (print, stderr, and writes to
// descriptor 1 from C code), its exit status and exceptions as failures, and a worker that
// keeps serving after a script fails.
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "util/test_util.h"

using namespace convnet::testing;

namespace {

std::string failure_of(const std::string& args) {
  try {
    run_python(args);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "run_python(\"" << args << "\") did not throw";
  return "";
}

std::string pid_in(const std::string& out) {
  const auto at = out.find("pid ");
  return at == std::string::npos ? "" : out.substr(at + 4, out.find('\n', at) - at - 4);
}

}  // namespace

TEST(PythonWorker, ScriptsGetTheirArgumentsAndAllTheirOutputComesBack) {
  const std::string out = run_python("worker_probe.py ok 'two words' 3");
  EXPECT_NE(out.find("argv ['ok', 'two words', '3']"), std::string::npos) << out;
  EXPECT_NE(out.find("path0 " + std::string(CONVNET_SOURCE_DIR) + "/python\n"), std::string::npos) << out;
  EXPECT_NE(out.find("to stderr"), std::string::npos) << out;
  EXPECT_NE(out.find("straight to fd 1"), std::string::npos) << out;
}

TEST(PythonWorker, ExitStatusAndExceptionsAreFailuresAndTheWorkerGoesOn) {
  const std::string first = run_python("worker_probe.py ok");
  const std::string exited = failure_of("worker_probe.py exit 3");
  EXPECT_NE(exited.find("status 3"), std::string::npos) << exited;
  EXPECT_NE(exited.find("straight to fd 1"), std::string::npos) << exited;
  const std::string raised = failure_of("worker_probe.py raise");
  EXPECT_NE(raised.find("status 1"), std::string::npos) << raised;
  EXPECT_NE(raised.find("ValueError: probe raised"), std::string::npos) << raised;
  EXPECT_NE(run_python("worker_probe.py exit 0").find("argv ['exit', '0']"), std::string::npos);
  // One process served them all: torch is imported once per test program.
  const std::string last = run_python("worker_probe.py ok");
  EXPECT_FALSE(pid_in(first).empty()) << first;
  EXPECT_EQ(pid_in(first), pid_in(last));
}

TEST(PythonWorker, AMissingScriptIsAFailureThatNamesIt) {
  const std::string msg = failure_of("no_such_script.py");
  EXPECT_NE(msg.find("no_such_script.py"), std::string::npos) << msg;
}

TEST(PythonWorker, AWorkerThatDiedIsReplacedAndTheTestProgramLivesOn) {
  const std::string first = pid_in(run_python("worker_probe.py ok"));
  // Dies while running a script: that call fails and names the script...
  const std::string died = failure_of("worker_probe.py die");
  EXPECT_NE(died.find("died running"), std::string::npos) << died;
  EXPECT_NE(died.find("worker_probe.py die"), std::string::npos) << died;
  // ...and the next call gets a fresh worker.
  const std::string second = pid_in(run_python("worker_probe.py die_later"));
  EXPECT_FALSE(second.empty());
  EXPECT_NE(second, first);
  // Gone between two calls (its socket closed): the request goes to a fresh worker, without
  // a SIGPIPE ending this program.
  usleep(600'000);
  const std::string third = pid_in(run_python("worker_probe.py ok"));
  EXPECT_FALSE(third.empty());
  EXPECT_NE(third, second);
}
