// Training options checked (train::validate) and a resumed run's configuration
// (train::resume_config): what the options of train/options.h may hold, alone and together.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "convnet/core/dtype.h"
#include "convnet/core/error.h"
#include "convnet/data/datasets.h"
#include "convnet/data/transforms.h"
#include "convnet/models/registry.h"
#include "convnet/ops/autocast.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/trainer.h"
#include "json_io.h"

namespace convnet::train {

namespace fs = std::filesystem;

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}
// One option's Check (train/options.h), with a message naming its flag.
template <class T>
void check_value(const OptionInfo& o, const T& v) {
  const Check& k = o.check;
  const std::string flag = option_flag(o);
  if constexpr (std::is_same_v<T, std::string>) {
    if (k.kind != Check::one_of) return;
    const std::string choices = k.choices;
    size_t b = 0;
    std::string list;
    bool ok = false;
    while (b <= choices.size()) {
      const size_t e = std::min(choices.find('|', b), choices.size());
      const std::string c = choices.substr(b, e - b);
      ok = ok || c == v;
      list += (list.empty() ? "" : ", ") + c;
      b = e + 1;
    }
    CONVNET_CHECK(ok, flag, ": unknown value '", v, "'; choose ", list);
  } else if constexpr (std::is_arithmetic_v<T>) {
    const auto x = static_cast<double>(v);
    switch (k.kind) {
      case Check::at_least:
        CONVNET_CHECK(x >= k.lo, flag, " must be at least ", num(k.lo), ", got ", num(x));
        break;
      case Check::above:
        CONVNET_CHECK(x > k.lo, flag, " must be greater than ", num(k.lo), ", got ", num(x));
        break;
      case Check::range:
        CONVNET_CHECK(x >= k.lo && x <= k.hi, flag, " must be in [", num(k.lo), ", ", num(k.hi), "], got ", num(x));
        break;
      case Check::below_one:
        CONVNET_CHECK(x >= 0 && x < 1, flag, " must be in [0, 1), got ", num(x));
        break;
      default:
        break;
    }
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    for (int64_t e : v) check_value(o, e);
  }
}
}  // namespace

void validate(const TrainConfig& c) {
  // Every option's own check, from its declaration in train/options.h.
  for (const OptionInfo& o : train_options())
    std::visit([&](auto ref) { check_value(o, ref(const_cast<TrainConfig&>(c))); }, o.ref);
  // What relates options to each other or to the library's lists.
  if (c.model.finetune_onnx.empty()) models::info(c.model.model);  // throws with the list of known models
  const auto& kinds = data::dataset_kinds();
  CONVNET_CHECK(std::find(kinds.begin(), kinds.end(), c.data.dataset) != kinds.end(), "unknown dataset kind '",
                c.data.dataset, "'; see `convnet train --help` for --dataset");
  CONVNET_CHECK(c.sched.schedule != "multistep" || !c.sched.milestones.empty(),
                "schedule multistep needs --milestones");
  CONVNET_CHECK(c.sched.warmup < c.optim.epochs, "--warmup must be in [0, epochs) = [0, ", c.optim.epochs, "), got ",
                c.sched.warmup);
  if (!c.aug.augment.empty()) data::Augment::parse(c.aug.augment);  // throws naming the bad item
  CONVNET_CHECK(
      !c.model.finetune_checkpoint.empty() + !c.model.finetune_weights.empty() + !c.model.finetune_onnx.empty() <= 1,
      "fine-tuning takes one source: a checkpoint, a weights file or an ONNX model");
  // Throws for an unknown device, CUDA on a build without it or a machine without a GPU.
  parse_device(c.compute.device);
  parse_precision(c.compute.precision);
  {
    const std::string& s = c.compute.loss_scale;
    bool ok = s == "auto" || s == "dynamic" || s == "none";
    if (!ok) {
      try {
        size_t used = 0;
        const double v = std::stod(s, &used);
        ok = used == s.size() && v > 0 && std::isfinite(v);
      } catch (const std::exception&) {
      }
    }
    CONVNET_CHECK(ok, "--loss-scale: unknown value '", s, "'; choose auto, dynamic, none or a positive number");
  }
}

TrainConfig resume_config(const std::string& ckpt, const TrainConfig& given,
                          const std::set<std::string>& explicitly_set) {
  const Checkpoint ck = load_checkpoint(ckpt);
  nlohmann::json stored = ck.config, g = given;
  std::string free_flags;
  for (const OptionInfo& o : train_options())
    if (o.free_on_resume && std::string(o.key) != "resume")
      free_flags += (free_flags.empty() ? "" : ", ") + option_flag(o);
  for (const OptionInfo& o : train_options()) {
    const std::string k = o.key;
    if (!explicitly_set.count(k) || !g.contains(k)) continue;
    if (o.free_on_resume) {
      stored[k] = g[k];
    } else if (!stored.contains(k) || stored[k] != g[k]) {
      throw Error(option_flag(o) + " " + plain(g[k]) + " does not match checkpoint '" + ck.path +
                  "', which was trained with " + option_flag(o) + " " +
                  (stored.contains(k) ? plain(stored[k]) : std::string("(unset)")) +
                  "; a resumed run keeps its configuration (only " + free_flags + " may change); start a new run " +
                  "to change it");
    }
  }
  TrainConfig r = stored.get<TrainConfig>();
  r.ckpt.resume = ck.path;
  if (!explicitly_set.count("out")) r.ckpt.out = fs::path(ck.path).parent_path().string();
  return r;
}

}  // namespace convnet::train
