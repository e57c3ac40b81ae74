# Test registration. Unit tests: tests/unit/**/test_*.c, one cmocka executable each.
# Integration, interop and config tests: tests/<kind>/test_*.sh|py, run with the binaries'
# directory in GENOPS_BIN. Fuzz targets: tests/fuzz/fuzz_*.c, replayed over their corpus by a
# plain driver (and built for libFuzzer when GENOPS_FUZZ=ON with clang).
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

file(GLOB_RECURSE UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE genops_core PkgConfig::CMOCKA)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME unit/${name} COMMAND ${name})
  set_tests_properties(unit/${name} PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "GENOPS_SRC=${CMAKE_SOURCE_DIR};GENOPS_BIN=${CMAKE_BINARY_DIR}/bin")
endforeach()

foreach(kind integration interop config component)
  file(GLOB SCRIPTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${kind}/test_*.sh
                                      ${CMAKE_SOURCE_DIR}/tests/${kind}/test_*.py)
  foreach(script ${SCRIPTS})
    get_filename_component(name ${script} NAME_WE)
    get_filename_component(ext ${script} EXT)
    if(ext STREQUAL ".py")
      add_test(NAME ${kind}/${name} COMMAND /usr/bin/python3 ${script})
    else()
      add_test(NAME ${kind}/${name} COMMAND bash ${script})
    endif()
    set_tests_properties(${kind}/${name} PROPERTIES LABELS ${kind} TIMEOUT 300
      ENVIRONMENT "GENOPS_SRC=${CMAKE_SOURCE_DIR};GENOPS_BIN=${CMAKE_BINARY_DIR}/bin;GENOPS_BUILD=${CMAKE_BINARY_DIR}")
  endforeach()
endforeach()

file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src ${FUZZ_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name}_replay ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
  target_link_libraries(${name}_replay PRIVATE genops_core)
  set_target_properties(${name}_replay PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME fuzz/${name} COMMAND ${name}_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set_tests_properties(fuzz/${name} PROPERTIES LABELS fuzz TIMEOUT 300)
  if(GENOPS_FUZZ)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE genops_core)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  endif()
endforeach()

# Test tools driven by integration tests (tests/tools/*.c), component harnesses and drivers
# (tests/component/*_harness.c, *_driver.c) -> build/tests/<name>.
file(GLOB TEST_TOOLS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/tools/*.c
                                       ${CMAKE_SOURCE_DIR}/tests/component/*_harness.c
                                       ${CMAKE_SOURCE_DIR}/tests/component/*_driver.c)
foreach(src ${TEST_TOOLS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE genops_core)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endforeach()
