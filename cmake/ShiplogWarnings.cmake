# shiplog_warnings(<target>): the warning set every first-party target compiles
# with. SHIPLOG_WERROR turns them into errors (./dev and CI always set it).
function(shiplog_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wformat=2
    -Wimplicit-fallthrough -Wno-unused-parameter
    # Designated initializers name only the fields that differ from their
    # defaults; that is the point of them.
    -Wno-missing-field-initializers
    $<$<COMPILE_LANGUAGE:CXX>:-Woverloaded-virtual>)
  # Clang checks the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED
  # annotations; GCC ignores them.
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-Wthread-safety>)
  endif()
  if(SHIPLOG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
