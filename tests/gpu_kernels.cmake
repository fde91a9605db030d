# GPU pipeline suites: the kernels vs CPU references, the whole cascade on the
# GPU backend vs golden logits and the CPU backend, and a clean failure of the
# GPU backend without a device. Included by tests/CMakeLists.txt when CUDA is
# built. The device suites print "skipped: no CUDA device" and exit 77 without one.
add_executable(test_gpu_kernels test_gpu_kernels.c)
target_link_libraries(test_gpu_kernels cascade_gpu)
add_test(NAME gpu_kernels COMMAND test_gpu_kernels)
set_tests_properties(gpu_kernels PROPERTIES ENVIRONMENT "${TEST_ENV}" SKIP_RETURN_CODE 77)

add_executable(test_gpu_cascade test_gpu_cascade.c)
target_link_libraries(test_gpu_cascade cascade_gpu)
add_test(NAME gpu_cascade COMMAND test_gpu_cascade)
set_tests_properties(gpu_cascade PROPERTIES ENVIRONMENT "${TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 600)

add_executable(test_gpu_nodevice test_gpu_nodevice.c)
target_link_libraries(test_gpu_nodevice cascade_gpu)
add_test(NAME gpu_nodevice COMMAND test_gpu_nodevice)
set_tests_properties(gpu_nodevice PROPERTIES ENVIRONMENT "${TEST_ENV}")

# the cascade commands themselves (run, sweep, calibrate, bench) on the GPU backend vs the golden logits
add_test(NAME gpu_commands COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/gpu_commands.py $<TARGET_FILE:cascade>)
set_tests_properties(gpu_commands PROPERTIES ENVIRONMENT "${TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 600)
