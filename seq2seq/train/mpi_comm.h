// The MPI implementation of Communicator (MPI_COMM_WORLD, CPU buffers), built when CMake's
// S2S_MPI finds an MPI (Open MPI from Debian: libopenmpi-dev). Nothing here names an MPI type, so
// the header compiles in every build; make_mpi_communicator() is declared in communicator.h and
// throws ConfigError in a build without MPI.
//
// Overlap: Open MPI advances a non-blocking collective only inside MPI calls, so a progress
// thread tests the pending gradient sums every 100 us while the training thread computes (MPI is
// initialised MPI_THREAD_SERIALIZED and one mutex serialises the two threads' calls);
// S2S_MPI_PROGRESS_THREAD=0 turns it off.
//
// Faults: every wait polls (MPI_Test) against a deadline instead of blocking, sleeping between
// polls so that a waiting rank leaves the CPU to the others. The per-step header is gathered on
// rank 0 by point-to-point messages, so when a rank is dead or hung rank 0 knows which one and
// ends the job (MPI_Abort) with a message naming it. When a gradient all-reduce stalls instead,
// rank 0 probes every rank with a point-to-point ping that waiting ranks answer from their
// polling loops, and names the ranks that stay silent. The other ranks wait a grace period
// longer, so rank 0's message usually wins; otherwise they name rank 0 or the stalled operation.
#pragma once

#include "seq2seq/train/communicator.h"

namespace s2s {

// Seconds the non-zero ranks wait beyond the deadline before reporting, so that rank 0, which
// can name the rank at fault, reports first.
inline constexpr double kMpiGraceSeconds = 5.0;

}  // namespace s2s
