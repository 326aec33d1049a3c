// Allreduce latency and bandwidth of the process group (dist/dist.h) as the trainer uses it:
// float32 sums, started with allreduce_async on the communication thread and waited for.
// Run under mpirun, e.g.
//   mpirun --allow-run-as-root -np 2 build/bench_allreduce
// Prints, per message size from 4 KB to 64 MB: the median time of one allreduce, the
// algorithm bandwidth (bytes / time) and the bus bandwidth (2 (N-1)/N bytes / time, what a
// ring moves per rank: comparable across world sizes, as nccl-tests reports it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "convnet/dist/dist.h"

int main() {
  using namespace convnet;
  dist::ProcessGroup& pg = dist::world();
  const int n = pg.size();
  if (pg.rank() == 0)
    std::printf("%d ranks (%s)\n%10s %12s %14s %14s\n", n, pg.backend().c_str(), "bytes", "time (us)", "algbw (GB/s)",
                "busbw (GB/s)");
  for (int64_t bytes = 4096; bytes <= (int64_t{64} << 20); bytes *= 4) {
    std::vector<float> buf(static_cast<size_t>(bytes / 4), 1.f);
    const int reps = bytes <= (1 << 20) ? 50 : 10;
    std::vector<double> t;
    for (int r = 0; r < reps + 3; ++r) {
      pg.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      pg.allreduce_async(buf.data(), static_cast<int64_t>(buf.size()), dist::ReduceOp::sum)->wait();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 3) t.push_back(s);  // the first ones set up connections
    }
    std::sort(t.begin(), t.end());
    double med = t[t.size() / 2];
    pg.allreduce(&med, 1, dist::ReduceOp::max);  // the slowest rank's median
    if (pg.rank() == 0)
      std::printf("%10lld %12.1f %14.3f %14.3f\n", static_cast<long long>(bytes), med * 1e6, bytes / med / 1e9,
                  2.0 * (n - 1) / n * bytes / med / 1e9);
  }
  return 0;
}
