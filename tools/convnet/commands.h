#pragma once
// One file per subcommand: each adds its options to the app and returns the function
// that runs it. Argument parsing and printing only; the work is done by the library.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace convnet::cli {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command add_train(CLI::App& app);
Command add_eval(CLI::App& app);
Command add_predict(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_summary(CLI::App& app);
Command add_infer(CLI::App& app);
Command add_models(CLI::App& app);
Command add_visualize(CLI::App& app);
Command add_report(CLI::App& app);
Command add_export(CLI::App& app);
Command add_finetune(CLI::App& app);

// "1,28,28" -> {1, 28, 28}; throws convnet::Error naming the option on bad input.
std::vector<int64_t> parse_int_list(const std::string& s, const std::string& option, size_t expected_count);

}  // namespace convnet::cli
