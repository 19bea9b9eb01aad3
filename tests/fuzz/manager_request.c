/* libFuzzer target for the manager's request path (see manager_request_run.h). Build with
 * `cmake -DCONC_FUZZ=ON -DCMAKE_C_COMPILER=clang [-DCONC_SANITIZE=address,undefined]`, run
 * `build/tests/fuzz/fuzz_manager_request -max_len=4096 -max_total_time=60`. */
#include "manager_request_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return conc_fuzz_manager_request(data, size);
}
