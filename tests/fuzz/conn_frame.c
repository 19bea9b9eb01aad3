/* libFuzzer target for the Connection frame reader (see conn_frame_run.h). Build with
 * `cmake -DCONC_FUZZ=ON -DCMAKE_C_COMPILER=clang [-DCONC_SANITIZE=address,undefined]`, run
 * `build/tests/fuzz/fuzz_conn_frame -max_len=4096 -max_total_time=60`. */
#include <stdlib.h>
#include "conn_frame_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (conc_fuzz_conn_frame(data, size) != 0) abort();
    return 0;
}
