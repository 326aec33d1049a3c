// convnet: the command-line tool. Each subcommand lives in its own cmd_*.cpp.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/version.h"

int main(int argc, char** argv) {
  CLI::App app{"convnet: build, train, evaluate and inspect convolutional neural networks (version " CONVNET_VERSION
               ")"};
  app.name("convnet");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(CONVNET_VERSION));
  using namespace convnet::cli;
  std::vector<Command> commands = {add_train(app),     add_eval(app),   add_predict(app),  add_bench(app),
                                   add_summary(app),   add_infer(app),  add_models(app),   add_export(app),
                                   add_finetune(app),  add_visualize(app), add_report(app)};
  if (argc == 1) {  // no command: the usage with every command, on stderr, and a failure
    std::fprintf(stderr, "%s\nconvnet: a command is required (the list above; `convnet COMMAND --help` for one)\n",
                 app.help().c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& c : commands) {
    if (!c.app->parsed()) continue;
    try {
      return c.run();
    } catch (const convnet::Error& e) {
      std::fprintf(stderr, "\nconvnet: error: %s\n", e.what());
      std::string name = c.app->get_name();  // with the nested subcommand ("visualize saliency")
      for (const auto* sub : c.app->get_subcommands()) name += " " + sub->get_name();
      std::fprintf(stderr, "(run `convnet %s --help` for the options)\n", name.c_str());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "\nconvnet: internal error: %s\n", e.what());
      return 2;
    }
  }
  return 0;
}
