// run-mpi in a build without MPI: the command exists and says why it cannot run.
#include "normcheck/model/problem.hpp"
#include "normcheck/mpi/run_mpi.hpp"

namespace normcheck::mpi {

int run_mpi(const RunMpiOptions&) {
  throw model::InputError(
      "this normcheck was built without MPI: install Open MPI (Debian libopenmpi-dev openmpi-bin) "
      "and "
      "configure again with -DNORMCHECK_WITH_MPI=ON");
}

}  // namespace normcheck::mpi
