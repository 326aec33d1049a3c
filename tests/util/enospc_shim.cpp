// LD_PRELOAD shim for the full-disk test (tests/e2e/test_resume.cpp): write(2) fails with
// ENOSPC on the CONVNET_TEST_ENOSPC_AT-th file named "*last.safetensors.tmp" that is written
// (counting each file when its first byte is written), as a full disk would, and passes
// every other write through.
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace {
int g_files = 0;

bool is_checkpoint_tmp(int fd) {
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = 0;
  static const char suffix[] = "last.safetensors.tmp";
  const size_t ls = sizeof suffix - 1;
  return static_cast<size_t>(n) >= ls && strcmp(path + n - ls, suffix) == 0;
}
}  // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t count) {
  using write_fn = ssize_t (*)(int, const void*, size_t);
  static const write_fn real = reinterpret_cast<write_fn>(dlsym(RTLD_NEXT, "write"));
  const char* at = getenv("CONVNET_TEST_ENOSPC_AT");
  if (at && fd > 2 && is_checkpoint_tmp(fd)) {
    if (lseek(fd, 0, SEEK_CUR) == 0) ++g_files;
    if (g_files >= atoi(at)) {
      errno = ENOSPC;
      return -1;
    }
  }
  return real(fd, buf, count);
}
