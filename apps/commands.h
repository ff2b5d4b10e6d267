// The subcommands of `lmul`, one file each; main.cpp lists them in this order.
#pragma once
#include <CLI/CLI.hpp>

namespace lmul::apps {

// Each registers its subcommand on app and sets its callback. Callbacks throw lmul::Error on bad
// input (exit 2) and lmul::RuntimeFailure on runtime failures (exit 1; train::TrainingDiverged,
// a run whose loss or weights stopped being finite, exits 3).
CLI::App* add_prepare(CLI::App& app);  // returns `prepare`, the parent of `prepare char|gpt2`
void add_train(CLI::App& app);
void add_sample(CLI::App& app);
void add_numerics(CLI::App& app);
void add_eval(CLI::App& app);
void add_export(CLI::App& app);
void add_inspect(CLI::App& app);
void add_compare(CLI::App& app);
void add_tokenize(CLI::App& app);
// Adds `gpt2` under the `prepare` subcommand passed in.
void add_prepare_gpt2(CLI::App& prepare);
// Adds `multiply` (the generated multiplication task's samples as text) under `prepare`.
void add_prepare_multiply(CLI::App& prepare);
void add_sweep(CLI::App& app);
void add_precision(CLI::App& app);

}  // namespace lmul::apps
