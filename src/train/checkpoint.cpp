#include "convnet/train/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <variant>

#include "convnet/core/error.h"
#include "convnet/io/safetensors.h"
#include "convnet/nn/init.h"
#include "convnet/train/finetune.h"
#include "json_io.h"

namespace convnet::train {

using nlohmann::json;
namespace fs = std::filesystem;

// ---- JSON forms of the config and the epoch statistics ------------------------------------
// One list of fields per struct (the options of train/options.h for the configuration), so
// writer and reader cannot drift apart.
#define CONVNET_EPOCH_FIELDS(X)                                                                                 \
  X(epoch)                                                                                                      \
  X(train_loss) X(train_acc) X(val_loss) X(val_acc) X(lr) X(seconds) X(images_per_second) X(best) X(loss_scale) \
      X(skipped_steps)

#define CONVNET_TO_JSON(f) j[#f] = c.f;
#define CONVNET_FROM_JSON(f) \
  if (j.contains(#f)) j.at(#f).get_to(c.f);

// The configuration is flat in JSON, one key per option of train/options.h (the same keys
// as before the options had sections, so older checkpoints read as they were written).
void to_json(json& j, const TrainConfig& c) {
  j = json::object();
  auto& m = const_cast<TrainConfig&>(c);
  for (const OptionInfo& o : train_options()) std::visit([&](auto ref) { j[o.key] = ref(m); }, o.ref);
}
void from_json(const json& j, TrainConfig& c) {
  for (const OptionInfo& o : train_options())
    if (j.contains(o.key)) std::visit([&](auto ref) { j.at(o.key).get_to(ref(c)); }, o.ref);
}
void to_json(json& j, const EpochStats& c) {
  CONVNET_EPOCH_FIELDS(CONVNET_TO_JSON)
}
void from_json(const json& j, EpochStats& c){CONVNET_EPOCH_FIELDS(CONVNET_FROM_JSON)}

std::string config_to_json(const TrainConfig& cfg) {
  return json(cfg).dump();
}

TrainConfig config_from_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text).get<TrainConfig>();
  } catch (const json::exception& e) {
    throw Error("the training configuration in " + what + " is malformed: " + e.what());
  }
}

// ---- atomic, durable writes ----------------------------------------------------------------
namespace {

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  throw Error(what + " '" + path + "': " + std::strerror(errno));
}

// Test hook (docs/formats.md): CONVNET_TEST_CRASH_SAVING="<epoch>:<bytes>[:<file name>]"
// makes the writer of the checkpoint of that epoch (only the file of that name, when given)
// end the process (as a kill would) after writing that many bytes of the temporary file, to
// show that the real name is never half written.
int64_t crash_budget(int64_t epoch, const std::string& path) {
  const char* e = std::getenv("CONVNET_TEST_CRASH_SAVING");
  if (!e) return -1;
  long long ep = 0, bytes = 0;
  char name[256] = "";
  if (std::sscanf(e, "%lld:%lld:%255s", &ep, &bytes, name) < 2 || ep != epoch) return -1;
  if (name[0] && fs::path(path).filename() != name) return -1;
  return bytes;
}

class AtomicFile {
 public:
  AtomicFile(std::string path, int64_t crash_after)
      : path_(std::move(path)), tmp_(path_ + ".tmp"), budget_(crash_after) {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail_errno("cannot create", tmp_);
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  void write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      size_t chunk = n;
      if (budget_ >= 0) {
        if (budget_ == 0) ::_exit(86);  // the test hook: die mid-write, leaving the temp file
        chunk = std::min<size_t>(chunk, static_cast<size_t>(budget_));
      }
      const ssize_t w = ::write(fd_, p, chunk);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail_errno("write failed (disk full?) on", tmp_);
      }
      p += w;
      n -= static_cast<size_t>(w);
      if (budget_ >= 0) budget_ -= w;
    }
  }
  // fsync before rename: otherwise a crash can leave the new name pointing at a file whose
  // data never reached the disk. The directory is synced so the rename itself is durable.
  void commit() {
    if (::fsync(fd_) != 0) fail_errno("fsync failed on", tmp_);
    if (::close(fd_) != 0) {
      fd_ = -1;
      fail_errno("close failed on", tmp_);
    }
    fd_ = -1;
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail_errno("cannot rename '" + tmp_ + "' to", path_);
    committed_ = true;
    std::string dir = fs::path(path_).parent_path().string();
    if (dir.empty()) dir = ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);  // best effort: some file systems refuse fsync on directories
      ::close(dfd);
    }
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  int64_t budget_;
  bool committed_ = false;
};

std::string hex64(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

json rng_to_json(const Generator::State& s) {
  uint32_t spare_bits;
  std::memcpy(&spare_bits, &s.spare, 4);
  json words = json::array();
  for (uint64_t w : s.s) words.push_back(hex64(w));
  // Hex strings: JSON readers outside C++ (Python's float-free ints aside) lose 64-bit integers.
  return {{"default", {{"s", words}, {"has_spare", s.has_spare}, {"spare_bits", spare_bits}}}};
}

Generator::State rng_from_json(const json& j) {
  Generator::State s{};
  const json& d = j.at("default");
  const json& words = d.at("s");
  CONVNET_CHECK(words.is_array() && words.size() == 4, "rng state needs 4 words");
  for (size_t i = 0; i < 4; ++i) s.s[i] = std::stoull(words[i].get<std::string>(), nullptr, 16);
  s.has_spare = d.at("has_spare").get<bool>();
  const uint32_t bits = d.at("spare_bits").get<uint32_t>();
  std::memcpy(&s.spare, &bits, 4);
  return s;
}

constexpr const char* kOptimPrefix = "train_state/optimizer/";
constexpr const char* kModelPrefix = "train_state/model/";

bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& content) {
  AtomicFile f(path, -1);
  f.write(content.data(), content.size());
  f.commit();
}

// ---- save ----------------------------------------------------------------------------------
void save_checkpoint(const std::string& path, const Checkpoint& c, bool with_train_state) {
  std::map<std::string, Tensor> tensors = c.weights;
  if (with_train_state) {
    for (const auto& [k, t] : c.optimizer) tensors.emplace(kOptimPrefix + k, t);
    for (const auto& [k, t] : c.train_weights) tensors.emplace(kModelPrefix + k, t);
  }
  // A checkpoint does not depend on the device it was trained on: the bytes from the host.
  for (auto& [k, t] : tensors) t = t.to(Device::cpu());
  json meta = json::object();
  meta["format"] = "convnet-checkpoint";
  meta["format_version"] = std::to_string(kCheckpointVersion);
  meta["model"] = c.config.model.model;
  meta["model_args"] = json{{"num_classes", c.model_args.num_classes},
                            {"in_channels", c.model_args.in_channels},
                            {"input_size", c.model_args.input_size}}
                           .dump();
  meta["class_names"] = json(c.class_names).dump();
  meta["normalize"] = json{{"mean", c.mean}, {"std", c.std}}.dump();
  const TrainConfig& k = c.config;
  meta["dataset"] = json{{"kind", k.data.dataset},          {"dir", k.data.data_dir},
                         {"image_size", k.data.image_size}, {"resize_mode", k.data.resize_mode},
                         {"grayscale", k.data.grayscale},   {"classes", k.data.classes},
                         {"val_split", k.data.val_split},   {"limit_train", k.data.limit_train}}
                        .dump();
  meta["config"] = json(c.config).dump();
  meta["epoch"] = std::to_string(c.epoch);
  meta["scheduler_step"] = std::to_string(c.scheduler_step);
  meta["world_size"] = std::to_string(c.world_size);
  if (c.loss_scale > 0)
    meta["loss_scale"] = json{{"scale", c.loss_scale}, {"growth_tracker", c.loss_scale_growth_tracker}}.dump();
  meta["rng"] = rng_to_json(c.rng).dump();
  meta["history"] = json(c.history).dump();
  meta["best"] = json{{"val_acc", c.best_val_acc}, {"epoch", c.best_epoch}}.dump();
  meta["train_state"] = with_train_state ? "true" : "false";
  if (c.partial.step > 0) {
    const auto& q = c.partial;
    meta["partial_epoch"] =
        json{{"step", q.step},         {"seen", q.seen}, {"correct", q.correct}, {"skipped", q.skipped},
             {"loss_sum", q.loss_sum}, {"lr", q.lr},     {"seconds", q.seconds}}
            .dump();
  }

  // The safetensors layout of io::save_safetensors, written here so that it can be fsync'ed.
  json header = json::object();
  int64_t off = 0;
  for (const auto& [name, t] : tensors) {
    const int64_t bytes = t.numel() * 4;
    header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {off, off + bytes}}};
    off += bytes;
  }
  header["__metadata__"] = meta;
  std::string h = header.dump();
  while ((h.size() + 8) % 8) h += ' ';  // 8-byte aligned data, as io::save_safetensors
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((static_cast<uint64_t>(h.size()) >> (8 * i)) & 0xff);

  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    CONVNET_CHECK(!ec, "cannot create the run directory '", parent.string(), "': ", ec.message());
  }
  AtomicFile f(path, crash_budget(c.epoch, path));
  f.write(len, 8);
  f.write(h.data(), h.size());
  for (const auto& [name, t] : tensors) f.write(t.data(), static_cast<size_t>(t.numel()) * 4);
  f.commit();
}

// ---- load ----------------------------------------------------------------------------------
std::string resolve_checkpoint(const std::string& p) {
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    const fs::path last = fs::path(p) / kLastCheckpoint;
    CONVNET_CHECK(fs::exists(last, ec), "checkpoint: the run directory '", p, "' has no ", kLastCheckpoint,
                  " (no epoch finished yet, or not a run directory)");
    return last.string();
  }
  CONVNET_CHECK(fs::exists(p, ec), "checkpoint '", p, "' does not exist");
  return p;
}

Checkpoint load_checkpoint(const std::string& path_or_dir) {
  const std::string path = resolve_checkpoint(path_or_dir);
  io::SafeTensors st;
  try {
    st = io::load_safetensors(path);
  } catch (const Error& e) {
    throw Error("checkpoint '" + path + "' cannot be read (corrupt or not a safetensors file): " + e.what());
  }
  auto meta = [&](const char* key) -> const std::string& {
    auto it = st.metadata.find(key);
    CONVNET_CHECK(it != st.metadata.end(), "checkpoint '", path, "' lacks the metadata entry '", key,
                  "' (corrupt, or written by another program)");
    return it->second;
  };
  auto fmt = st.metadata.find("format");
  CONVNET_CHECK(fmt != st.metadata.end() && fmt->second == "convnet-checkpoint", "'", path,
                "' is not a convnet training checkpoint (its metadata has no \"format\": \"convnet-checkpoint\"); "
                "a plain weights file runs with `convnet infer --model NAME --weights FILE`");
  Checkpoint c;
  c.path = path;
  try {
    c.version = std::stoi(meta("format_version"));
    CONVNET_CHECK(c.version >= 1 && c.version <= kCheckpointVersion, "checkpoint '", path, "' has format version ",
                  c.version, "; this build of convnet reads versions 1 to ", kCheckpointVersion);
    c.config = json::parse(meta("config")).get<TrainConfig>();
    CONVNET_CHECK(c.config.model.model == meta("model"), "checkpoint '", path, "': the model '", meta("model"),
                  "' differs from the configuration's '", c.config.model.model, "'");
    const json a = json::parse(meta("model_args"));
    c.model_args.num_classes = a.at("num_classes").get<int64_t>();
    c.model_args.in_channels = a.at("in_channels").get<int64_t>();
    c.model_args.input_size = a.at("input_size").get<int64_t>();
    c.class_names = json::parse(meta("class_names")).get<std::vector<std::string>>();
    const json n = json::parse(meta("normalize"));
    c.mean = n.at("mean").get<std::vector<float>>();
    c.std = n.at("std").get<std::vector<float>>();
    c.epoch = std::stoll(meta("epoch"));
    c.scheduler_step = std::stoll(meta("scheduler_step"));
    c.rng = rng_from_json(json::parse(meta("rng")));
    c.history = json::parse(meta("history")).get<std::vector<EpochStats>>();
    const json b = json::parse(meta("best"));
    c.best_val_acc = b.at("val_acc").get<double>();
    c.best_epoch = b.at("epoch").get<int64_t>();
    c.has_train_state = meta("train_state") == "true";
    if (auto ls = st.metadata.find("loss_scale"); ls != st.metadata.end()) {
      const json j = json::parse(ls->second);
      c.loss_scale = j.at("scale").get<double>();
      c.loss_scale_growth_tracker = j.at("growth_tracker").get<int64_t>();
      CONVNET_CHECK(c.loss_scale > 0 && std::isfinite(c.loss_scale), "checkpoint '", path,
                    "' has a malformed loss scale ", c.loss_scale);
    }
    if (auto ws = st.metadata.find("world_size"); ws != st.metadata.end()) {
      c.world_size = std::atoll(ws->second.c_str());
      CONVNET_CHECK(c.world_size >= 1 && c.world_size <= (int64_t{1} << 24), "checkpoint '", path,
                    "' has a malformed world_size ", ws->second);
    }
    if (auto pe = st.metadata.find("partial_epoch"); pe != st.metadata.end()) {
      const json j = json::parse(pe->second);
      auto& q = c.partial;
      q.step = j.at("step").get<int64_t>(), q.seen = j.at("seen").get<int64_t>();
      q.correct = j.at("correct").get<int64_t>(), q.skipped = j.at("skipped").get<int64_t>();
      q.loss_sum = j.at("loss_sum").get<double>(), q.lr = j.at("lr").get<double>();
      q.seconds = j.at("seconds").get<double>();
      CONVNET_CHECK(q.step > 0 && q.step < (int64_t{1} << 40) && q.seen >= 0 && q.correct >= 0 && q.correct <= q.seen &&
                        q.skipped >= 0 && q.skipped <= q.step && std::isfinite(q.loss_sum) && std::isfinite(q.seconds),
                    "checkpoint '", path, "' has a malformed partial_epoch entry ", pe->second);
    }
    CONVNET_CHECK(c.mean.size() == c.std.size() && static_cast<int64_t>(c.mean.size()) == c.model_args.in_channels,
                  "checkpoint '", path, "' has malformed metadata: ", c.mean.size(), " normalization means and ",
                  c.std.size(), " stds for ", c.model_args.in_channels, " input channels");
    // What a file says is checked as the command line is: sizes in the CLI's ranges, the
    // counters where arithmetic on them cannot overflow.
    const auto& ma = c.model_args;
    CONVNET_CHECK(ma.num_classes >= 1 && ma.num_classes <= 1'000'000 && ma.in_channels >= 1 && ma.in_channels <= 4096 &&
                      ma.input_size >= 0 && ma.input_size <= 4096,
                  "checkpoint '", path, "' has malformed model_args: num_classes ", ma.num_classes, " (1 to 1000000), ",
                  "in_channels ", ma.in_channels, " (1 to 4096), input_size ", ma.input_size, " (0 to 4096)");
    CONVNET_CHECK(static_cast<int64_t>(c.class_names.size()) <= ma.num_classes, "checkpoint '", path, "' names ",
                  c.class_names.size(), " classes for a model with ", ma.num_classes);
    constexpr int64_t kMaxCount = int64_t{1} << 40;
    CONVNET_CHECK(c.epoch >= 0 && c.epoch < kMaxCount && c.scheduler_step >= 0 && c.scheduler_step < kMaxCount &&
                      c.best_epoch >= 0 && c.best_epoch <= c.epoch,
                  "checkpoint '", path, "' has malformed counters: epoch ", c.epoch, ", scheduler_step ",
                  c.scheduler_step, ", best epoch ", c.best_epoch,
                  " (each 0 to 2^40, the best epoch at most the epoch)");
    try {
      validate(c.config);
    } catch (const Error& e) {
      throw Error("checkpoint '" + path + "' stores a training configuration that is not valid (" + e.what() +
                  "); it was not written by this version of convnet, or was altered");
    }
  } catch (const json::exception& e) {
    throw Error("checkpoint '" + path + "' has malformed metadata: " + e.what());
  } catch (const std::logic_error& e) {  // std::stoi and friends
    throw Error("checkpoint '" + path + "' has malformed metadata: " + e.what());
  }
  for (auto& [name, t] : st.tensors) {
    if (starts_with(name, kOptimPrefix))
      c.optimizer.emplace(name.substr(std::strlen(kOptimPrefix)), t);
    else if (starts_with(name, kModelPrefix))
      c.train_weights.emplace(name.substr(std::strlen(kModelPrefix)), t);
    else
      c.weights.emplace(name, t);
  }
  return c;
}

void load_weights_into(nn::Module& m, const std::map<std::string, Tensor>& weights, const std::string& path,
                       const std::string& model_name) {
  // All problems at once, and nothing modified unless everything fits.
  std::vector<std::string> problems;
  const auto own = m.state_dict();
  for (const auto& [name, t] : own) {
    auto it = weights.find(name);
    if (it == weights.end())
      problems.push_back("missing in checkpoint: " + name);
    else if (it->second.shape() != t.shape())
      problems.push_back(name + ": shape " + shape_str(it->second.shape()) + " in checkpoint, " + shape_str(t.shape()) +
                         " in model");
  }
  for (const auto& [name, t] : weights)
    if (!own.count(name)) problems.push_back("not in the model: " + name);
  if (!problems.empty()) {
    std::string msg = "the weights in checkpoint '" + path + "' do not fit model '" + model_name + "' (" +
                      std::to_string(problems.size()) + " problems):";
    for (size_t i = 0; i < problems.size() && i < 8; ++i) msg += "\n  " + problems[i];
    if (problems.size() > 8) msg += "\n  ... and " + std::to_string(problems.size() - 8) + " more";
    throw Error(msg);
  }
  for (auto& [name, t] : own) {
    Tensor dst = t;
    dst.copy_(weights.at(name));
  }
}

nn::ModulePtr model_from_checkpoint(const Checkpoint& c) {
  nn::ModulePtr m;
  try {
    nn::init::SkipInitGuard skip;              // load_weights_into overwrites every parameter and buffer
    m = create_model(c.config, c.model_args);  // a zoo model, or a fine-tuned ONNX graph
  } catch (const Error& e) {
    throw Error("checkpoint '" + c.path + "' names a model that cannot be built: " + e.what());
  }
  load_weights_into(*m, c.weights, c.path, c.config.model.model);
  return m;
}

}  // namespace convnet::train
