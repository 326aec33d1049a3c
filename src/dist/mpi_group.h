#pragma once
// The MPI process group (dist/dist.h), compiled where CMake found MPI (CONVNET_HAVE_MPI).
#include <memory>

#include "convnet/dist/dist.h"

namespace convnet::dist {
// A group over MPI_COMM_WORLD, MPI initialized on a communication thread of its own.
// \throws convnet::Error in a build without MPI.
std::unique_ptr<ProcessGroup> make_mpi_group();
}  // namespace convnet::dist
