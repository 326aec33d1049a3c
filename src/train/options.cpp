// The table of training options, generated from the X-macros of train/options.h.
#include "convnet/train/options.h"

#include <set>

namespace convnet::train {

namespace {
// Options that only `convnet finetune` has, and those a resumed run may change: neither
// changes what a line of options.h declares, only where the CLI shows it and what resume
// accepts, so they are listed here by key.
const std::set<std::string> kFinetuneOnly = {
    "num_classes", "finetune_checkpoint", "finetune_weights", "finetune_onnx", "train_last", "freeze", "bn_stats"};
// What may change without changing the result (threads: bit-identical only with the same
// count; epochs extends or shortens the run and its schedule; the device, once there is a
// second one, moves it).
const std::set<std::string> kFreeOnResume = {"epochs",          "threads", "workers", "data_dir",  "out",
                                             "eval_batch_size", "resume",  "device",  "bucket_mb", "dist_timeout"};
}  // namespace

const std::vector<OptionInfo>& train_options() {
  static const std::vector<OptionInfo> table = [] {
    std::vector<OptionInfo> t;
#define CONVNET_ADD(member, section_name)                                                                             \
  [&](const char* key, const char* flags, const char* help, Check check, auto ref) {                                  \
    t.push_back(OptionInfo{key, section_name, flags, help, check, OptionInfo::Ref(ref), kFinetuneOnly.count(key) > 0, \
                           kFreeOnResume.count(key) > 0});                                                            \
  }
    auto data = CONVNET_ADD(data, "Data");
    auto model = CONVNET_ADD(model, "Model");
    auto optim = CONVNET_ADD(optim, "Optimization");
    auto sched = CONVNET_ADD(sched, "Schedule");
    auto aug = CONVNET_ADD(aug, "Augmentation");
    auto compute = CONVNET_ADD(compute, "Compute");
    auto ckpt = CONVNET_ADD(ckpt, "Checkpoints");
#undef CONVNET_ADD
#define CONVNET_ROW(adder, member, type, field, def, flags, help, check) \
  adder(                                                                 \
      #field, flags, help, check, +[](TrainConfig& c) -> type& { return c.member.field; });
#define CONVNET_DATA_ROW(type, field, def, flags, help, check) \
  CONVNET_ROW(data, data, type, field, def, flags, help, check)
#define CONVNET_MODEL_ROW(type, field, def, flags, help, check) \
  CONVNET_ROW(model, model, type, field, def, flags, help, check)
#define CONVNET_OPTIM_ROW(type, field, def, flags, help, check) \
  CONVNET_ROW(optim, optim, type, field, def, flags, help, check)
#define CONVNET_SCHED_ROW(type, field, def, flags, help, check) \
  CONVNET_ROW(sched, sched, type, field, def, flags, help, check)
#define CONVNET_AUG_ROW(type, field, def, flags, help, check) \
  CONVNET_ROW(aug, aug, type, field, def, flags, help, check)
#define CONVNET_COMPUTE_ROW(type, field, def, flags, help, check) \
  CONVNET_ROW(compute, compute, type, field, def, flags, help, check)
#define CONVNET_CKPT_ROW(type, field, def, flags, help, check) \
  CONVNET_ROW(ckpt, ckpt, type, field, def, flags, help, check)
    CONVNET_DATA_OPTIONS(CONVNET_DATA_ROW)
    CONVNET_MODEL_OPTIONS(CONVNET_MODEL_ROW)
    CONVNET_OPTIM_OPTIONS(CONVNET_OPTIM_ROW)
    CONVNET_SCHEDULE_OPTIONS(CONVNET_SCHED_ROW)
    CONVNET_AUGMENT_OPTIONS(CONVNET_AUG_ROW)
    CONVNET_COMPUTE_OPTIONS(CONVNET_COMPUTE_ROW)
    CONVNET_CHECKPOINT_OPTIONS(CONVNET_CKPT_ROW)
    return t;
  }();
  return table;
}

std::string option_flag(const OptionInfo& o) {
  std::string f = o.flags;
  if (f.empty()) return std::string("--") + o.key;
  // The long name of "-e,--epochs" / "--nesterov,!--no-nesterov".
  const size_t at = f.find("--");
  const size_t end = f.find(',', at);
  return f.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace convnet::train
