// main() of every test executable: gtest's, except that a run in which some test skipped
// (GTEST_SKIP: a dataset, chromium or libonnx-testdata missing) and none failed exits with
// kSkipExitCode, which ctest reports as "Skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt)
// instead of "Passed". An exit code rather than SKIP_REGULAR_EXPRESSION, because a matching
// regular expression would make ctest report a skip even when another test of the same
// executable failed.
#include <gtest/gtest.h>

#include "util/test_util.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  if (rc != 0) return rc;
  const auto* unit = ::testing::UnitTest::GetInstance();
  return unit->skipped_test_count() > 0 ? convnet::testing::kSkipExitCode : 0;
}
