/* `regrad train --dist` (dist_train.h): MPI set-up around train_run_dist. */
#include "dist_train.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef RG_HAVE_MPI
#include <mpi.h>
#endif

#include "commands.h"

int dist_launcher_ranks(void) {
  /* Open MPI, MPICH/Hydra and PMI-2, Slurm. */
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                     "MPI_LOCALNRANKS", "SLURM_NTASKS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    int n = v ? atoi(v) : 0;
    if (n > 1) return n;
  }
  return 1;
}

int dist_train_main(const train_config *c, const dist_options *o, const char *config_text) {
  int launched = dist_launcher_ranks();
  if (!rg_dist_available() && launched > 1)
    return command_failed("started by an MPI launcher with %d ranks, but this regrad was built "
                          "without MPI (meson setup -Dmpi=enabled): each rank would train "
                          "alone", launched), 2;
  if (o->grad_shards > c->run.batch)
    return command_failed("--grad-shards %d is more than --batch %lld: every shard needs a row "
                          "(and each shard costs a forward and backward pass per step)",
                          o->grad_shards, (long long)c->run.batch), 2;
  void *comm = NULL;
  int rank = 0, size = 1;
#ifdef RG_HAVE_MPI
  int up = 0;
  MPI_Initialized(&up);
  if (!up) MPI_Init(NULL, NULL);
  MPI_Comm world = MPI_COMM_WORLD;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  comm = &world;
#endif
  train_dist dist = {.comm = comm, .config_text = config_text,
                     .cfg = {.mode = (rg_dist_mode)o->mode, .grad_shards = o->grad_shards,
                             .bucket_bytes = (size_t)o->bucket_kib << 10}};
  train_config rc = *c;
  if (rank != 0) rc.quiet = true, rc.log_csv = NULL;
  train_result r = train_run_dist(&rc, &dist);
  int code = 0;
  if (r.status != RG_OK)
    code = size > 1 ? command_failed("rank %d: %s", rank, r.message)
                    : command_failed("%s", r.message);
  else if (rank == 0)
    printf("test accuracy %.4f\n%lld steps in %.2f s on %d rank(s)\n", (double)r.test_acc,
           (long long)r.steps, r.seconds, size);
#ifdef RG_HAVE_MPI
  if (!up) MPI_Finalize();
#endif
  return code;
}
