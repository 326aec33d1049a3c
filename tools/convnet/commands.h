#pragma once
// One file per subcommand: each adds its options to the app and returns the function
// that runs it. Argument parsing and printing only; the work is done by the library.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <string>

namespace convnet::cli {

// Number checks with plain messages ("--batch: 0 is not > 0"): CLI11's PositiveNumber and
// NonNegativeNumber print their range with the largest double written out in full.
inline CLI::Validator number_check(double lo, double hi, bool open_lo, const std::string& desc) {
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        double x = 0;
        try {
          size_t used = 0;
          x = std::stod(s, &used);
          if (used != s.size()) return s + " is not a number";
        } catch (const std::exception&) {
          return s + " is not a number";
        }
        const bool ok = (open_lo ? x > lo : x >= lo) && x <= hi;
        return ok ? std::string() : s + " is not " + desc;
      },
      desc);
}
inline CLI::Validator positive() {
  return number_check(0, 1e300, true, "> 0");
}
inline CLI::Validator non_negative() {
  return number_check(0, 1e300, false, ">= 0");
}
inline CLI::Validator in_range(double lo, double hi) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "in [%g, %g]", lo, hi);
  return number_check(lo, hi, false, buf);
}

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
Command add_convert(CLI::App& app);

// "1,28,28" -> {1, 28, 28}; throws convnet::Error naming the option on bad input.
std::vector<int64_t> parse_int_list(const std::string& s, const std::string& option, size_t expected_count);

}  // namespace convnet::cli
