#pragma once
#pragma GCC visibility push(default)
/// \file
/// The number of threads the CPU kernels use (as torch.set_num_threads /
/// torch.get_num_threads). The kernels are OpenMP loops; the default is OpenMP's, all cores
/// unless OMP_NUM_THREADS says otherwise.
namespace convnet {
/// Sets the number of threads the CPU kernels use (as torch.set_num_threads).
/// \pre  `n` >= 1.
/// \post get_num_threads() returns `n` on the calling thread (it sets OpenMP's
///       `omp_set_num_threads`, which parallel regions started from this thread follow).
/// \throws convnet::Error when `n` < 1, naming `n`.
void set_num_threads(int n);
/// The number of threads the CPU kernels use (as torch.get_num_threads): OpenMP's
/// `omp_get_max_threads()`.
int get_num_threads();
}  // namespace convnet
#pragma GCC visibility pop
