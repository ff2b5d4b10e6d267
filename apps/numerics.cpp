// lmul numerics: check the arithmetic from outside the code (DESIGN.md §3 "Numerics tool").
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/arith/arith.h"

namespace lmul::apps {

void add_numerics(CLI::App& app) {
  auto* cmd = app.add_subcommand("numerics", "Inspect the number formats and multiply arithmetics");
  auto list = std::make_shared<bool>(false);
  cmd->add_flag("--list", *list, "List the formats and their options");
  cmd->callback([list] {
    if (*list)
      for (const auto& f : arith::formats()) fmt::print("{:8}  {}\n", f.name, f.help);
  });
}

}  // namespace lmul::apps
