#pragma once
#pragma GCC visibility push(default)
/// \file
/// Mixed precision, as torch.autocast: while a guard is alive on this thread, the ops that
/// dominate a CNN's time compute in a reduced precision, and the ones that need the range or
/// the precision stay in float32.
///
/// \code
///   {
///     convnet::autocast guard(DType::bfloat16);   // or DType::float16; float32 turns it off
///     Tensor logits = model(x);                    // conv2d, linear: bfloat16
///     Tensor loss = ops::cross_entropy(logits, y); // float32
///   }
///   loss.backward();                               // outside, as in PyTorch
/// \endcode
///
/// What each op does with a reduced-precision dtype T (bfloat16 or float16):
///   - conv2d, linear: a floating input is cast to T (differentiably); weights and biases
///     stay float32 (the masters: the optimizer and checkpoints see float32) and the kernel
///     rounds them to T as it computes, accumulating in float32; the output is T, and so is
///     the input gradient, while the weight gradients are float32. Outside a guard they
///     accept a T input the same way (a float32 input with T weights: two dtypes, an error).
///   - batch_norm, relu, add, max/avg/adaptive-avg pooling, concat, flatten and reshape: in
///     the input's dtype (T in, T out); batch norm keeps float32 statistics and parameters.
///   - every other op (the losses, softmax, log_softmax, tanh, sigmoid, dropout, padding,
///     ...): T inputs are cast to float32 first, so they compute and return float32.
///
/// Reduced-precision kernels compute in float32 and round where the output is stored; where
/// the CPU has no fast kernel for float16, the reference kernels emulate it (slow).
#include <string>

#include "convnet/core/dtype.h"

namespace convnet {

/// A scope guard that sets this thread's autocast dtype (torch.autocast): the ops listed in
/// this file's description read it. Guards nest; each restores the dtype it found.
class autocast {
 public:
  /// Sets this thread's compute dtype to `dtype` until the guard is destroyed.
  /// \pre  `dtype` is float32 (autocast off inside this guard), bfloat16 or float16.
  /// \post autocast_dtype() returns `dtype` on this thread while the guard lives.
  /// \throws convnet::Error naming the dtype when it is not one of the three.
  explicit autocast(DType dtype);  // float32, bfloat16 or float16
  /// Restores the dtype this guard found when it was made.
  ~autocast();
  autocast(const autocast&) = delete;
  autocast& operator=(const autocast&) = delete;

 private:
  DType prev_;
};

/// The dtype of the innermost live autocast guard on this thread: bfloat16 or float16, or
/// float32 when there is none (or it turned autocast off).
DType autocast_dtype();

/// The compute dtype that a `--precision` command-line value names, for an autocast guard.
/// \pre  `s` is "fp32" (float32), "bf16" (bfloat16) or "fp16" (float16).
/// \post the matching DType.
/// \throws convnet::Error naming `s` and the three choices for anything else.
DType parse_precision(const std::string& s);

/// What a run in `t` should tell its user about speed.
/// \post empty for float32, and for a reduced precision whose convolution kernel here is a
///       fast backend's; otherwise a one-line warning that says the reference kernels will
///       emulate `t` (correct, and slow), as for float16 on the CPU.
std::string precision_note(DType t);

}  // namespace convnet
#pragma GCC visibility pop
