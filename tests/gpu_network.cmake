# gpu_network.cmake (included by tests/CMakeLists.txt when the GPU backend is
# built): the GPU networks against the golden logits on the whole test set,
# plus the pooling and epilogue kernels against CPU references. Exits 77
# ("skipped: no CUDA device") on machines without a GPU.
add_executable(test_gpu_network test_gpu_network.c)
target_link_libraries(test_gpu_network cascade_gpu)
add_test(NAME gpu_network COMMAND test_gpu_network)
set_tests_properties(gpu_network PROPERTIES ENVIRONMENT "${TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 1500)

# The GPU backend's host-side layout and weight relayout, emulated on the CPU
# against the golden logits: runs without a device.
add_executable(test_gpu_layout test_gpu_layout.c)
target_link_libraries(test_gpu_layout cascade_gpu)
add_test(NAME gpu_layout COMMAND test_gpu_layout)
set_tests_properties(gpu_layout PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 300)
