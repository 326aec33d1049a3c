#include "convnet/dist/dist.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "convnet/core/error.h"
#include "dist/mpi_group.h"

namespace convnet::dist {

namespace {
std::atomic<double> g_timeout{120.0};

// One process: every collective is the identity (average and max of one value are the value).
class LocalGroup final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  void allreduce(float*, int64_t, ReduceOp) override {}
  void allreduce(double*, int64_t, ReduceOp) override {}
  std::shared_ptr<Work> allreduce_async(float*, int64_t, ReduceOp) override {
    struct Done final : Work {
      void wait() override {}
      bool done() const override { return true; }
      double queued_seconds() const override { return 0; }
    };
    return std::make_shared<Done>();
  }
  void broadcast(void*, int64_t, int root) override {
    CONVNET_CHECK(root == 0, "broadcast: root ", root, " is not a rank of a group of one");
  }
  void barrier() override {}
  std::vector<std::string> allgather(const std::string& mine) override { return {mine}; }
};

// The world size and rank that a launcher put in the environment (-1: none).
int env_int(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const char* v = std::getenv(n); v && *v) return std::atoi(v);
  return -1;
}
int env_size() {
  return env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"});
}

std::mutex g_world_mutex;
std::unique_ptr<ProcessGroup> g_world;
std::atomic<bool> g_launched{false};
}  // namespace

void ProcessGroup::allreduce(Tensor& t, ReduceOp op) {
  CONVNET_CHECK(t.device().is_cpu() && t.dtype() == DType::float32, "allreduce: needs a float32 CPU tensor, got ",
                dtype_name(t.dtype()), " on ", device_name(t.device()));
  allreduce(t.data(), t.numel(), op);
}

void ProcessGroup::broadcast(Tensor& t, int root) {
  broadcast(t.raw_ptr(), t.numel() * dtype_size(t.dtype()), root);
}

std::string ProcessGroup::broadcast(const std::string& s, int root) {
  int64_t n = static_cast<int64_t>(s.size());
  broadcast(&n, sizeof n, root);
  std::string out = rank() == root ? s : std::string(static_cast<size_t>(n), '\0');
  if (n > 0) broadcast(out.data(), n, root);
  return out;
}

ProcessGroup& world() {
  std::lock_guard<std::mutex> lock(g_world_mutex);
  if (!g_world) {
    const int size = env_size();
    if (size < 1) {
      g_world = std::make_unique<LocalGroup>();
    } else {
      CONVNET_CHECK(mpi_compiled(), "this process was started by an MPI launcher (world size ", size,
                    "), but convnet was built without MPI; install OpenMPI (scripts/install-deps.sh) and rebuild");
      g_world = make_mpi_group();
      g_launched = true;
    }
  }
  return *g_world;
}

bool launched() {
  return g_launched.load();
}

int env_rank() {
  const int r = env_int({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"});
  return r < 0 ? 0 : r;
}

void set_timeout(double seconds) {
  CONVNET_CHECK(seconds > 0, "--dist-timeout must be positive, got ", seconds);
  g_timeout = seconds;
}
double timeout() {
  return g_timeout.load();
}

namespace {
std::atomic<double> g_grad_weight{1.0};
}
double grad_weight() {
  return g_grad_weight.load();
}
void set_grad_weight(double w) {
  CONVNET_CHECK(w > 0 && w <= 1, "set_grad_weight: ", w, " is not in (0, 1]");
  g_grad_weight = w;
}

std::string rank_prefix() {
  return env_size() >= 1 ? "rank " + std::to_string(env_rank()) + ": " : std::string();
}

}  // namespace convnet::dist
