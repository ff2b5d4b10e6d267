#include "train/signals.h"

#include <signal.h>

#include <csignal>

namespace lmul::train {

namespace {
volatile std::sig_atomic_t g_stop = 0;

// Async-signal-safe: writes a flag, or restores the default action and re-raises.
extern "C" void on_stop_signal(int sig) {
  if (g_stop != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop = sig;
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a write or fsync in flight is resumed, not failed with EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() { return g_stop; }

}  // namespace lmul::train
