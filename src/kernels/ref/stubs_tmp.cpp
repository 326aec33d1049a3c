// TEMPORARY: registration functions not written yet. Each family moves to its own file.
#include "kernels/registry.h"
namespace convnet::kernels {
void register_ref_pool() {}
void register_ref_batch_norm() {}
void register_ref_activation() {}
void register_ref_softmax() {}
void register_ref_loss() {}
void register_ref_elementwise() {}
}  // namespace convnet::kernels
