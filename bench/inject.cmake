# Used by bench/run while the top-level CMakeLists.txt lacks
# add_subdirectory(bench): passed as -DCMAKE_PROJECT_threadsearch_INCLUDE,
# it runs at the end of project(threadsearch) and defers including
# bench/CMakeLists.txt until the top-level file is done, when ts_searcher and
# the imported targets exist (a deferred call may not add a subdirectory, so
# the file is included instead). Once the top level adds bench itself,
# bench/run stops passing it.
cmake_language(EVAL CODE "
  cmake_language(DEFER CALL include [[${CMAKE_CURRENT_LIST_DIR}/CMakeLists.txt]])")
