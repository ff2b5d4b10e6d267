// lmul: train language models with the multiplication arithmetic as the experiment.
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "core/suggest.h"
#include "train/trainer.h"

int main(int argc, char** argv) {
  CLI::App app{"lmul — train nanoGPT-style language models with a chosen multiplication arithmetic"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lmul 0.1.0");
  CLI::App* prepare = lmul::apps::add_prepare(app);
  lmul::apps::add_prepare_gpt2(*prepare);
  lmul::apps::add_prepare_multiply(*prepare);
  lmul::apps::add_train(app);
  lmul::apps::add_sample(app);
  lmul::apps::add_numerics(app);
  lmul::apps::add_eval(app);
  lmul::apps::add_export(app);
  lmul::apps::add_inspect(app);
  lmul::apps::add_compare(app);
  lmul::apps::add_tokenize(app);
  lmul::apps::add_sweep(app);
  lmul::apps::add_precision(app);
  // Bare `lmul` and `lmul help` print the usage; a mistyped subcommand gets the nearest name.
  if (argc == 1 || (argc == 2 && std::string_view(argv[1]) == "help")) {
    fmt::print("{}", app.help());
    return 0;
  }
  const std::string_view first = argv[1];
  if (first[0] == '-' && first != "-h" && first != "--help" && first != "--version") {
    fmt::print(stderr, "lmul: error: unknown option '{}' (`lmul --help` lists the subcommands)\n", first);
    return 2;
  }
  if (argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      const std::string near = lmul::nearest_name(argv[1], names);
      fmt::print(stderr, "lmul: error: unknown subcommand '{}'{} (`lmul --help` lists them)\n", argv[1],
                 near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near));
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line in lmul's own form; CLI11's text names the option and what was wrong.
    fmt::print(stderr, "lmul: error: {} (see `{}`)\n", e.what(),
               argv[1][0] != '-' ? fmt::format("lmul {} --help", argv[1]) : std::string("lmul --help"));
    return 2;
  } catch (const lmul::Error& e) {
    fmt::print(stderr, "lmul: error: {}\n", e.what());
    return 2;
  } catch (const lmul::train::TrainingDiverged& e) {
    fmt::print(stderr, "lmul: failed: {}\n", e.what());
    return 3;  // apart from other failures, so that a script can tell a diverged run from a full disk
  } catch (const lmul::RuntimeFailure& e) {
    fmt::print(stderr, "lmul: failed: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "lmul: failed: {}\n", e.what());
    return 1;
  }
  return 0;
}
