# Every public header of lib/ compiles on its own (and twice in a row): one generated source file
# per header, built by the test itself so that a header that leans on an earlier include fails a
# test with its name rather than some later build.
file(GLOB DS_PUBLIC_HEADERS RELATIVE ${CMAKE_SOURCE_DIR}/lib CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/lib/*/*.hpp)
list(FILTER DS_PUBLIC_HEADERS EXCLUDE REGEX "detail\\.hpp$")
set(_sources)
foreach(header ${DS_PUBLIC_HEADERS})
  string(MAKE_C_IDENTIFIER ${header} id)
  set(source ${CMAKE_CURRENT_BINARY_DIR}/headers/${id}.cpp)
  file(CONFIGURE OUTPUT ${source}
       CONTENT "#include \"${header}\"\n#include \"${header}\"\nint ds_header_${id};\n")
  list(APPEND _sources ${source})
endforeach()
add_library(headers_alone OBJECT EXCLUDE_FROM_ALL ${_sources})
# For the include paths and definitions of every dependency (nothing is linked).
target_link_libraries(headers_alone PRIVATE ds_farm ds_fit ds_reduce ds_plot ds_report ds_log ds_error)
# Whether a header compiles does not depend on optimisation: -O0 makes the test about 2x cheaper.
target_compile_options(headers_alone PRIVATE -O0)
add_test(NAME headers_compile_alone
         COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target headers_alone)
# COST: the longest tests start first, beside the short ones, instead of alone at the end.
set_tests_properties(headers_compile_alone PROPERTIES TIMEOUT 900 COST 1000)
