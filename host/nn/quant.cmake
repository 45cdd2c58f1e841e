# sparse_quant: float reference forward, int8 post-training quantization and the integer-only int8 executor
# (REFERENCE.md §6). Included from a CMakeLists.txt after sparse_core, sparse_graph and sparse_datasets exist.
add_library(sparse_quant STATIC
  ${CMAKE_CURRENT_LIST_DIR}/float_executor.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quantize.cpp
  ${CMAKE_CURRENT_LIST_DIR}/int8_executor.cpp)
target_link_libraries(sparse_quant PUBLIC sparse_core sparse_graph sparse_datasets PRIVATE sparse_warnings)
