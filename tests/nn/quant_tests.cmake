# test_quantize: quantize_multiplier, the int8 executor on hand-built models, bit-exactness against the C runtime
# (sparse_rt, codegen/runtime/sparse_rt.c built as C99) and closeness to the float executor. Needs sparse_test
# (tests/CMakeLists.txt), sparse_quant (host/nn/quant.cmake) and sparse_rt (codegen/CMakeLists.txt).
sparse_test(test_quantize
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_quantize.cpp ${CMAKE_CURRENT_LIST_DIR}/test_quantize_runtime.cpp
  LIBS sparse_quant sparse_space sparse_graph sparse_datasets sparse_rt)
