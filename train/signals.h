// SIGINT/SIGTERM during training: the first signal only raises a flag that the training loop reads
// after each step (it then writes ckpt/latest and returns normally); a second signal of the same
// kind kills the process as if no handler were installed.
#pragma once

namespace lmul::train {

// Installs the handlers (lmul train does; the in-process tests do not).
void install_stop_handlers();
// The signal that asked to stop (SIGINT, SIGTERM), or 0.
int stop_signal();

}  // namespace lmul::train
