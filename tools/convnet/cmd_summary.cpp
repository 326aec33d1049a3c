// convnet summary, convnet models
#include <cstdio>
#include <memory>
#include <sstream>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/models/registry.h"
#include "convnet/nn/init.h"
#include "convnet/nn/summary.h"

namespace convnet::cli {

std::vector<int64_t> parse_int_list(const std::string& s, const std::string& option, size_t expected_count) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string part;
  const std::string what =
      option + " must be " + std::to_string(expected_count) + " positive integers separated by commas";
  while (std::getline(ss, part, ',')) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      throw Error(what + ", got '" + s + "'");
    }
    if (used != part.size() || v < 1) throw Error(what + ", got '" + s + "'");
    out.push_back(v);
  }
  if (out.size() != expected_count) throw Error(what + ", got '" + s + "'");
  return out;
}

namespace {
struct SummaryOptions {
  std::string model, input;
  int64_t num_classes = 0, batch = 1;
};
}  // namespace

Command add_summary(CLI::App& app) {
  auto o = std::make_shared<SummaryOptions>();
  auto* sm = app.add_subcommand("summary", "Print a model's layers with output shapes, parameters and MACs");
  sm->add_option("model,-m,--model", o->model, "Model name (see `convnet models`)")->required();
  sm->add_option("--input", o->input,
                 "Input shape C,H,W (default: the model's usual input, e.g. 1,28,28 for lenet5, 3,224,224 for "
                 "torchvision models)");
  sm->add_option("--num-classes", o->num_classes, "Number of classes (default 1000 for torchvision models, else 10)")
      ->check(positive());
  sm->add_option("--batch", o->batch, "Batch size for the activation-memory estimate")
      ->capture_default_str()
      ->check(positive());
  return {sm, [o] {
            const auto& info = models::info(o->model);
            models::ModelArgs a;
            a.num_classes = o->num_classes > 0 ? o->num_classes : (info.torchvision ? 1000 : 10);
            Shape chw{info.default_in_channels, info.default_input_size, info.default_input_size};
            if (info.torchvision) chw = {3, 224, 224};
            if (!o->input.empty()) chw = parse_int_list(o->input, "--input C,H,W", 3);
            a.in_channels = chw[0];
            a.input_size = chw[1];
            nn::init::SkipInitGuard skip;  // shapes and counts only
            auto net = models::create(o->model, a);
            std::printf("%s (%s)\n", o->model.c_str(), info.description.c_str());
            std::printf("%s", nn::summarize(*net, chw).table(o->batch).c_str());
            return 0;
          }};
}

Command add_models(CLI::App& app) {
  auto* ls = app.add_subcommand("models", "List the models of the zoo");
  return {ls, [] {
            for (const auto& m : models::all())
              std::printf("%-20s %s%s\n", m.name.c_str(), m.description.c_str(),
                          m.torchvision ? " [torchvision names]" : "");
            return 0;
          }};
}

}  // namespace convnet::cli
