# STARLOPS_PYTHON_EXECUTABLE: a Python 3 that imports matplotlib and numpy, for starlops-trace's
# Gantt chart and the bench plot scripts.
#
# Why not simply `python3` from PATH: on many machines the first python3 on PATH is a pyenv or
# conda interpreter that cannot see the python3-matplotlib tools/install-deps.sh installs into
# Debian's /usr/bin/python3 (a fresh CI machine failed the trace test that way). So each
# candidate is asked to import the modules, and the first that can is written into the scripts.
# -DSTARLOPS_PYTHON=/path/to/python3 names one explicitly (it is checked the same way).
set(STARLOPS_PYTHON "" CACHE FILEPATH "Python 3 with matplotlib and numpy (empty: search)")

set(_sl_py_candidates)
if(STARLOPS_PYTHON)
  list(APPEND _sl_py_candidates "${STARLOPS_PYTHON}")
else()
  # Debian's interpreter first: that is where install-deps.sh puts matplotlib.
  list(APPEND _sl_py_candidates /usr/bin/python3)
  find_program(_sl_path_python3 NAMES python3 NO_CACHE)
  if(_sl_path_python3)
    list(APPEND _sl_py_candidates "${_sl_path_python3}")
  endif()
endif()

set(STARLOPS_PYTHON_EXECUTABLE "")
foreach(_sl_py IN LISTS _sl_py_candidates)
  if(EXISTS "${_sl_py}")
    execute_process(COMMAND "${_sl_py}" -c "import matplotlib, numpy"
                    RESULT_VARIABLE _sl_py_rc OUTPUT_QUIET ERROR_QUIET)
    if(_sl_py_rc EQUAL 0)
      set(STARLOPS_PYTHON_EXECUTABLE "${_sl_py}")
      break()
    endif()
  endif()
endforeach()

if(STARLOPS_PYTHON_EXECUTABLE)
  message(STATUS "Python with matplotlib and numpy: ${STARLOPS_PYTHON_EXECUTABLE}")
else()
  string(REPLACE ";" ", " _sl_tried "${_sl_py_candidates}")
  message(WARNING "No Python 3 that imports matplotlib and numpy (tried: ${_sl_tried}). "
          "starlops-trace will write no Gantt chart, the bench plots will not run and the "
          "trace_tool test will fail. Run tools/install-deps.sh as root (python3-matplotlib), "
          "or pass -DSTARLOPS_PYTHON=/path/to/python3.")
endif()

# ${build}/starlops-python: the chosen interpreter as one command, for the bench scripts (which
# take the build directory) and for users; it explains itself when no interpreter was found.
if(STARLOPS_PYTHON_EXECUTABLE)
  set(_sl_py_body "exec '${STARLOPS_PYTHON_EXECUTABLE}' \"$@\"")
else()
  set(_sl_py_body "echo 'starlops-python: no Python 3 with matplotlib and numpy was found at \
configure time; run tools/install-deps.sh or reconfigure with -DSTARLOPS_PYTHON=...' >&2\nexit 1")
endif()
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/starlops-python.tmp
     CONTENT "#!/bin/sh\n# Written by cmake/StarlopsPython.cmake.\n${_sl_py_body}\n" @ONLY)
file(COPY_FILE ${CMAKE_BINARY_DIR}/starlops-python.tmp ${CMAKE_BINARY_DIR}/starlops-python
     ONLY_IF_DIFFERENT)
file(CHMOD ${CMAKE_BINARY_DIR}/starlops-python PERMISSIONS OWNER_READ OWNER_WRITE
     OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
