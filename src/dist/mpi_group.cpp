#include "dist/mpi_group.h"

#include "convnet/core/error.h"

#ifdef CONVNET_HAVE_MPI
// The C API only: OpenMPI's deprecated C++ bindings do not compile cleanly with -Werror.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#endif

namespace convnet::dist {

#ifndef CONVNET_HAVE_MPI
bool mpi_compiled() {
  return false;
}
std::unique_ptr<ProcessGroup> make_mpi_group() {
  throw Error("this build of convnet has no MPI (configure with OpenMPI installed)");
}
#else
bool mpi_compiled() {
  return true;
}

namespace {
using Clock = std::chrono::steady_clock;

// A collective in flight, as allreduce_async() hands it out.
struct AsyncWork final : Work {
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  std::string error;
  Clock::time_point submitted = Clock::now(), started;

  void wait() override {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return finished; });
    if (!error.empty()) throw Error(error);
  }
  bool done() const override {
    std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(m));
    return finished;
  }
  double queued_seconds() const override { return std::chrono::duration<double>(started - submitted).count(); }
  void finish(std::string err) {
    {
      std::lock_guard<std::mutex> lock(m);
      finished = true, error = std::move(err);
    }
    cv.notify_all();
  }
};

std::string mpi_error(int code) {
  char s[MPI_MAX_ERROR_STRING];
  int n = 0;
  MPI_Error_string(code, s, &n);
  return std::string(s, static_cast<size_t>(n));
}

MPI_Op mpi_op(ReduceOp op) {
  return op == ReduceOp::max ? MPI_MAX : MPI_SUM;
}

int checked_count(int64_t n, const char* what) {
  CONVNET_CHECK(n >= 0 && n <= std::numeric_limits<int>::max(), what, ": ", n,
                " elements is more than one MPI call takes (2^31 - 1)");
  return static_cast<int>(n);
}

class MpiGroup final : public ProcessGroup {
 public:
  MpiGroup() {
    // MPI is initialized, used and finalized on the communication thread only.
    thread_ = std::thread([this] { loop(); });
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return initialized_; });
    if (!init_error_.empty()) {
      lock.unlock();
      thread_.join();
      throw Error(init_error_);
    }
  }
  ~MpiGroup() override {
    {
      std::lock_guard<std::mutex> lock(m_);
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void allreduce(float* data, int64_t n, ReduceOp op) override { allreduce_async(data, n, op)->wait(); }
  void allreduce(double* data, int64_t n, ReduceOp op) override {
    const int count = checked_count(n, "allreduce");
    run("allreduce", [=, this] {
      const int rc = MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, mpi_op(op), MPI_COMM_WORLD);
      if (rc == MPI_SUCCESS && op == ReduceOp::average)
        for (int i = 0; i < count; ++i) data[i] /= size_;
      return rc;
    });
  }
  std::shared_ptr<Work> allreduce_async(float* data, int64_t n, ReduceOp op) override {
    const int count = checked_count(n, "allreduce");
    return submit("allreduce", [=, this] {
      const int rc = MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, mpi_op(op), MPI_COMM_WORLD);
      if (rc == MPI_SUCCESS && op == ReduceOp::average) {
        const float s = 1.0f / static_cast<float>(size_);
        for (int i = 0; i < count; ++i) data[i] *= s;
      }
      return rc;
    });
  }
  void broadcast(void* data, int64_t bytes, int root) override {
    CONVNET_CHECK(root >= 0 && root < size_, "broadcast: root ", root, " is not a rank of this group of ", size_);
    const int count = checked_count(bytes, "broadcast");
    run("broadcast", [=] { return MPI_Bcast(data, count, MPI_BYTE, root, MPI_COMM_WORLD); });
  }
  void barrier() override {
    run("barrier", [] { return MPI_Barrier(MPI_COMM_WORLD); });
  }
  std::vector<std::string> allgather(const std::string& mine) override {
    std::vector<int> lengths(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
    std::string all;
    const int len = checked_count(static_cast<int64_t>(mine.size()), "allgather");
    run("allgather", [&, this] {
      int rc = MPI_Allgather(&len, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD);
      if (rc != MPI_SUCCESS) return rc;
      int64_t total = 0;
      for (int i = 0; i < size_; ++i) offsets[i] = static_cast<int>(total), total += lengths[i];
      all.assign(static_cast<size_t>(total), '\0');
      return MPI_Allgatherv(mine.data(), len, MPI_BYTE, all.data(), lengths.data(), offsets.data(), MPI_BYTE,
                            MPI_COMM_WORLD);
    });
    std::vector<std::string> out;
    for (int i = 0; i < size_; ++i) out.push_back(all.substr(static_cast<size_t>(offsets[i]), lengths[i]));
    return out;
  }

 private:
  struct Task {
    const char* what;
    std::function<int()> body;  // returns an MPI error code
    std::shared_ptr<AsyncWork> work;
  };

  std::shared_ptr<AsyncWork> submit(const char* what, std::function<int()> body) {
    auto w = std::make_shared<AsyncWork>();
    {
      std::lock_guard<std::mutex> lock(m_);
      q_.push_back({what, std::move(body), w});
    }
    cv_.notify_all();
    return w;
  }
  void run(const char* what, std::function<int()> body) { submit(what, std::move(body))->wait(); }

  // The deadline of every collective: the communication thread runs MPI's blocking
  // collectives (its tuned algorithms: the nonblocking ones progress only inside MPI calls),
  // and this thread watches it. A collective that has not finished after timeout() seconds
  // means a peer died or stopped answering: the process says so and exits (every rank does,
  // each at its own deadline) instead of hanging. Wakes 10 times per timeout, at most once a
  // second.
  void watch() {
    std::unique_lock<std::mutex> lock(m_);
    while (!quit_) {
      const double period = std::min(1.0, timeout() / 10);
      cv_watch_.wait_for(lock, std::chrono::duration<double>(period));
      const int64_t since = busy_since_.load();
      if (since == 0) continue;
      const double busy =
          std::chrono::duration<double>(Clock::now().time_since_epoch()).count() - static_cast<double>(since) * 1e-9;
      if (busy < timeout()) continue;
      std::fprintf(stderr,
                   "\nconvnet: rank %d: error: the %s with the other %d rank(s) got no answer for %g s "
                   "(--dist-timeout): a rank died or stopped answering (the launcher's message names it); "
                   "exiting. The last checkpoint written is intact.\n",
                   rank_, busy_what_.load(), size_ - 1, timeout());
      std::fflush(stderr);
      std::fflush(stdout);
      std::_Exit(3);
    }
  }

  void loop() {
    int provided = 0;
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    {
      std::lock_guard<std::mutex> lock(m_);
      if (rc != MPI_SUCCESS) {
        init_error_ = "MPI_Init_thread failed: " + mpi_error(rc);
      } else {
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
      }
      initialized_ = true;
    }
    cv_.notify_all();
    if (rc != MPI_SUCCESS) return;
    std::thread watchdog([this] { watch(); });
    for (;;) {
      Task t;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return quit_ || !q_.empty(); });
        if (q_.empty()) {  // quit_, nothing left
          lock.unlock();
          cv_watch_.notify_all();
          watchdog.join();
          break;
        }
        t = std::move(q_.front());
        q_.pop_front();
      }
      t.work->started = Clock::now();
      busy_what_ = t.what;
      busy_since_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t.work->started.time_since_epoch()).count();
      const int code = t.body();
      busy_since_ = 0;
      t.work->finish(code == MPI_SUCCESS ? std::string()
                                         : std::string("MPI ") + t.what + " failed on rank " + std::to_string(rank_) +
                                               ": " + mpi_error(code));
    }
    MPI_Finalize();
  }

  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_, cv_watch_;
  std::deque<Task> q_;
  std::atomic<int64_t> busy_since_{0};  // steady-clock ns when the running collective started; 0: idle
  std::atomic<const char*> busy_what_{""};
  bool quit_ = false, initialized_ = false;
  std::string init_error_;
  int rank_ = 0, size_ = 1;
};
}  // namespace

std::unique_ptr<ProcessGroup> make_mpi_group() {
  return std::make_unique<MpiGroup>();
}
#endif

}  // namespace convnet::dist
