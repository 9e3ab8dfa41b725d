# SHIPLOG_SANITIZE: a comma-separated -fsanitize= list (e.g. "address,undefined"
# or "thread") applied to every target, tests included.
set(SHIPLOG_SANITIZE "" CACHE STRING "Sanitizers to build with (-fsanitize=...)")
if(SHIPLOG_SANITIZE)
  add_compile_options(-fsanitize=${SHIPLOG_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SHIPLOG_SANITIZE})
endif()
