# Install into a temporary prefix, then build a program against the *installed* library twice:
# with pkg-config, and with find_package(conc) in a CMake project. Both must run.
set(prefix ${BINARY_DIR}/install-test/prefix)
set(work ${BINARY_DIR}/install-test)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix}
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed")
endif()
foreach(f include/conc.h include/conc/sync.h include/conc/thread.h)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB_RECURSE pcs ${prefix}/*/conc.pc)
list(LENGTH pcs npc)
if(NOT npc EQUAL 1)
  message(FATAL_ERROR "expected one installed conc.pc, found: ${pcs}")
endif()
get_filename_component(pcdir ${pcs} DIRECTORY)
get_filename_component(libdir ${pcdir} DIRECTORY)

file(WRITE ${work}/hello.c [=[
#include <conc.h>
#include <stdio.h>
static void *work(void *arg) { *(int *)arg += 41; return arg; }
int main(int argc, char **argv) {
    conc_init(argc, argv);
    static conc_lock_t lock = CONC_LOCK_INIT;
    int v = 1;
    conc_thread_t *t;
    if (conc_thread_start(&t, work, &v, NULL) != 0) return 1;
    void *res;
    if (conc_thread_join(t, CONC_FOREVER, &res) != 0 || res != &v) return 2;
    conc_thread_release(t);
    if (conc_lock_acquire(&lock, 1.0) != 0 || conc_lock_release(&lock) != 0) return 3;
    printf("installed conc says %d\n", v);
    return v == 42 ? 0 : 4;
}
]=])
set(san "")
if(SANITIZE)
  set(san "-fsanitize=${SANITIZE}")
endif()

# 1. pkg-config
set(ENV{PKG_CONFIG_PATH} ${pcdir})
execute_process(COMMAND pkg-config --cflags --libs conc OUTPUT_VARIABLE flags RESULT_VARIABLE rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --libs conc failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
execute_process(COMMAND ${C_COMPILER} ${san} ${work}/hello.c -o ${work}/hello_pc ${flags}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building against pkg-config flags failed: ${flags}")
endif()
set(ENV{LD_LIBRARY_PATH} ${libdir})
execute_process(COMMAND ${work}/hello_pc RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "says 42")
  message(FATAL_ERROR "pkg-config build ran with status ${rc}: ${out}")
endif()

# 2. find_package(conc) -> conc::conc
file(MAKE_DIRECTORY ${work}/cmake-consumer)
file(WRITE ${work}/cmake-consumer/CMakeLists.txt "
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(conc REQUIRED)
add_executable(hello ${work}/hello.c)
target_compile_options(hello PRIVATE ${san})
target_link_options(hello PRIVATE ${san})
target_link_libraries(hello PRIVATE conc::conc)
")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${work}/cmake-consumer -B ${work}/cmake-build
  -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${prefix} RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "find_package(conc) project failed to configure")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${work}/cmake-build RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "find_package(conc) project failed to build")
endif()
execute_process(COMMAND ${work}/cmake-build/hello RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "says 42")
  message(FATAL_ERROR "find_package build ran with status ${rc}: ${out}")
endif()
message(STATUS "installed library works through pkg-config and find_package(conc)")
