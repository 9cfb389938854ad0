// SIGINT and SIGTERM as a request to stop cleanly: long jobs poll stop_requested() between units
// of work, save what they have and exit 0 instead of dying mid-write. A second signal while a
// stop is pending restores the default action, so a stuck job can still be killed.
#pragma once

namespace s2s {

void install_stop_handlers();
bool stop_requested();
void request_stop();  // as if a signal had arrived (tests)
void clear_stop_request();

}  // namespace s2s
