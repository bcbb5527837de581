// Data-parallel training over MPI ranks (core/tensor/process_group.h): the MPI process group,
// and starting and stopping MPI. Built with MPI when CMake finds it (option SNGAN_MPI);
// without it, or when not launched by an MPI launcher, sngan runs alone.
#pragma once

#include "core/tensor/process_group.h"

namespace sngan {

// Starts MPI when an MPI launcher (mpirun/mpiexec, srun) started this process, and returns the
// world's process group (null when alone or built without MPI). Call once, early in main.
ProcessGroup* start_mpi(int* argc, char*** argv);
// The group start_mpi returned when it has several ranks (null when alone or alone under mpirun).
ProcessGroup* world_group();
// Ranks of the world group on this host (1 when alone).
int ranks_on_this_host();
// Ends MPI after a normal return of every rank (no-op when alone).
void finish_mpi();
// Stops every rank of the job with exit code `code` (MPI_Abort): a rank that fails must not
// leave the others waiting in a collective forever. No-op when alone.
void abort_all_ranks(int code);

}  // namespace sngan
