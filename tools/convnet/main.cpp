// convnet: the command-line tool. Each subcommand lives in its own cmd_*.cpp.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/data/image.h"
#include "convnet/dist/dist.h"
#include "convnet/version.h"

int main(int argc, char** argv) {
  CLI::App app{"convnet: build, train, evaluate and inspect convolutional neural networks (version " CONVNET_VERSION
               ")"};
  app.name("convnet");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(CONVNET_VERSION));
  // Options of every command (given before or after the command's name).
  int64_t max_pixels = convnet::data::max_image_pixels();
  app.add_option("--max-image-pixels", max_pixels,
                 "Largest image (width x height) any command decodes; a header claiming more is refused before "
                 "decoding")
      ->check(convnet::cli::positive())
      ->capture_default_str();
  app.fallthrough();  // subcommands hand this option to the main command
  using namespace convnet::cli;
  std::vector<Command> commands = {add_train(app),    add_eval(app),      add_predict(app), add_bench(app),
                                   add_summary(app),  add_infer(app),     add_models(app),  add_export(app),
                                   add_finetune(app), add_visualize(app), add_report(app),  add_convert(app)};
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
  convnet::data::set_max_image_pixels(max_pixels);
  for (auto& c : commands) {
    if (!c.app->parsed()) continue;
    // More OpenMP threads than cores only wait for each other: say so instead of running
    // many times slower without a word.
    if (const CLI::Option* t = c.app->get_option_no_throw("--threads"); t && t->count() > 0) {
      const long cores = sysconf(_SC_NPROCESSORS_ONLN);
      const long asked = std::atol(t->as<std::string>().c_str());
      if (cores > 0 && asked > cores)
        std::fprintf(stderr,
                     "convnet: warning: --threads %ld is more than the %ld cores of this machine; threads beyond the "
                     "cores wait for each other and usually make every step slower (0 uses all cores)\n",
                     asked, cores);
    }
    // Under mpirun every rank's error is printed with its rank, and a failing rank leaves at
    // once (no MPI_Finalize, which would wait for ranks still in a collective): the launcher
    // then stops the others.
    const std::string rank = convnet::dist::rank_prefix();
    auto failed = [](int code) {
      if (!convnet::dist::launched()) return code;
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(code);
    };
    try {
      const int rc = c.run();
      return rc == 0 ? rc : failed(rc);
    } catch (const convnet::Error& e) {
      std::fprintf(stderr, "\nconvnet: %serror: %s\n", rank.c_str(), e.what());
      std::string name = c.app->get_name();  // with the nested subcommand ("visualize saliency")
      for (const auto* sub : c.app->get_subcommands()) name += " " + sub->get_name();
      std::fprintf(stderr, "(run `convnet %s --help` for the options)\n", name.c_str());
      return failed(1);
    } catch (const std::bad_alloc&) {
      // The library reports its own allocations by size (convnet::Error); this is one of a
      // library underneath (a standard container, oneDNN's scratch space).
      std::fprintf(stderr,
                   "\nconvnet: %serror: out of memory (an allocation of the standard library or of oneDNN failed; "
                   "a smaller --batch-size or input size needs less)\n",
                   rank.c_str());
      return failed(1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "\nconvnet: %sinternal error: %s\n", rank.c_str(), e.what());
      return failed(2);
    }
  }
  return 0;
}
