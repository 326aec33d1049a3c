#pragma once
// JSON forms of the training configuration and of one epoch's statistics, shared by the
// checkpoint writer (metadata "config" and "history") and the metrics log (one line per
// epoch). Private to src/train: the public headers do not expose nlohmann::json.
#include <nlohmann/json.hpp>

#include "convnet/train/trainer.h"

namespace convnet::train {

void to_json(nlohmann::json& j, const TrainConfig& c);
// Missing keys keep their defaults, so older checkpoints still read.
void from_json(const nlohmann::json& j, TrainConfig& c);
void to_json(nlohmann::json& j, const EpochStats& e);
void from_json(const nlohmann::json& j, EpochStats& e);
// A value as a user typed it, for messages: strings without quotes, the rest as JSON.
inline std::string plain(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace convnet::train
