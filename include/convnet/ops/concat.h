#pragma once
#pragma GCC visibility push(default)
/// \file
/// concat: joins tensors along dimension `dim`, as torch.cat (DenseNet's feature maps).
/// \code{.unparsed}
///   xs[i]: (d0, ..., D_i, ..., dn) with all dimensions but `dim` equal
///   y:     (d0, ..., sum_i D_i, ..., dn); dim < 0 counts from the end.
/// \endcode
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// The tensors of `xs` joined along `dim`, in order (as torch.cat).
/// \pre  `xs` not empty; every tensor defined, on the CPU, of the same rank (at least 1) and
///       the same sizes in every dimension but `dim`; `-rank <= dim < rank`. All float32, or
///       all of one reduced dtype (bfloat16 or float16); under an autocast guard, floating
///       tensors of mixed dtypes are converted to float32 first.
/// \post y: the common dtype, `xs[0]`'s shape with size `dim` the sum of the inputs' sizes.
///       Backward gives each input its slice of the output gradient.
/// \throws convnet::Error naming `layer` (and the tensor's index and shapes) when `xs` is
///       empty, a tensor is undefined, the tensors differ in dtype, device, rank or a size
///       other than `dim`'s, `dim` is out of range, or the tensors are zero-dimensional.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim = 1, const std::string& layer = "concat");

}  // namespace convnet::ops
#pragma GCC visibility pop
