/* libFuzzer target for the VM loader (see vm_load_run.h). Build with
 * `cmake -DCONC_FUZZ=ON -DCMAKE_C_COMPILER=clang [-DCONC_SANITIZE=address,undefined]`, run
 * `build/tests/fuzz/fuzz_vm_load -max_len=4096 -max_total_time=60 -dict=tests/fuzz/vm_load.dict`. */
#include <stdlib.h>
#include "vm_load_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (conc_fuzz_vm_load(data, size) != 0) abort();
    return 0;
}
