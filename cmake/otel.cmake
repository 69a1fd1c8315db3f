# Helpers shared by every folder's CMakeLists.txt.
include(GoogleTest)

# otel_library(<name> DEPS <targets...>): a static library named otel_<name> from every *.cpp in the
# calling folder. Include paths are rooted at the project root: #include "lib/core/json.h".
function(otel_library name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(srcs)
    add_library(otel_${name} STATIC ${srcs})
    target_include_directories(otel_${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
    target_link_libraries(otel_${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(otel_${name} INTERFACE)
    target_include_directories(otel_${name} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
    target_link_libraries(otel_${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# otel_test(<name> SOURCES <files...> DEPS <targets...>): a GoogleTest program registered with CTest.
function(otel_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    OTEL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    OTEL_SHARED_REFERENCE="${OTEL_SHARED_REFERENCE}"
    OTEL_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()

# otel_bench(<name> SOURCES <files...> DEPS <targets...>): a Google Benchmark program (not run by tests).
function(otel_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark benchmark::benchmark_main)
  target_compile_definitions(${name} PRIVATE OTEL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    OTEL_SHARED_REFERENCE="${OTEL_SHARED_REFERENCE}")
endfunction()

# Add every immediate sub-folder of the calling folder that has a CMakeLists.txt, in name order.
function(otel_add_subfolders)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
