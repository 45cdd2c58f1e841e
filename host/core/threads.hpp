// CPU thread counts for workers and the data pipeline.
#pragma once

namespace sparse {

// Hardware threads of this machine (at least 1).
int hardware_threads();

}  // namespace sparse
