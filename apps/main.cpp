// lmul: train language models with the multiplication arithmetic as the experiment.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"lmul — train nanoGPT-style language models with a chosen multiplication arithmetic"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lmul 0.1.0");
  lmul::apps::add_prepare_gpt2(*lmul::apps::add_prepare(app));
  lmul::apps::add_train(app);
  lmul::apps::add_sample(app);
  lmul::apps::add_numerics(app);
  lmul::apps::add_eval(app);
  lmul::apps::add_export(app);
  lmul::apps::add_inspect(app);
  lmul::apps::add_compare(app);
  lmul::apps::add_tokenize(app);
  lmul::apps::add_sweep(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const lmul::Error& e) {
    fmt::print(stderr, "lmul: error: {}\n", e.what());
    return 2;
  } catch (const lmul::RuntimeFailure& e) {
    fmt::print(stderr, "lmul: failed: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "lmul: failed: {}\n", e.what());
    return 1;
  }
  return 0;
}
