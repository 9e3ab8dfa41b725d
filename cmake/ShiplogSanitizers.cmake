# SHIPLOG_SANITIZE: a comma-separated -fsanitize= list (e.g. "address,undefined"
# or "thread") applied to every target, tests included.
set(SHIPLOG_SANITIZE "" CACHE STRING "Sanitizers to build with (-fsanitize=...)")
if(SHIPLOG_SANITIZE)
  add_compile_options(-fsanitize=${SHIPLOG_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SHIPLOG_SANITIZE})
  # SHIPLOG_SANITIZE_C_LINK_FLAGS: how a C program that uses the library
  # links. Clang links the runtime into programs, and its C driver leaves
  # out the runtime's C++ parts (UBSan's vptr and function checks, which
  # the C++ inside libshiplog.so calls) and the C++ ABI library they need.
  set(SHIPLOG_SANITIZE_C_LINK_FLAGS "-fsanitize=${SHIPLOG_SANITIZE}")
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    string(APPEND SHIPLOG_SANITIZE_C_LINK_FLAGS
      " -fsanitize-link-c++-runtime -lstdc++")
    add_link_options("$<$<LINK_LANGUAGE:C>:-fsanitize-link-c++-runtime>"
                     "$<$<LINK_LANGUAGE:C>:-lstdc++>")
  endif()
endif()
