#pragma once
namespace convnet {
// Number of threads used by the CPU kernels (default: all cores).
void set_num_threads(int n);
int get_num_threads();
}  // namespace convnet
