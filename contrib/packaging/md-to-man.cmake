# cmake -DIN=doc.md -DOUT=page.N.gz -DNAME=page -DSECTION=N -DSUMMARY="..."
#       -DVERSION=x.y.z -DGO_MD2MAN=/usr/bin/go-md2man -P md-to-man.cmake
#
# One man page from one markdown file, at build time. A file that starts
# with a "% TITLE N" block (docs/man/*.md) is a man page already; any other
# doc (docs/annotations.md) gets that block and a NAME section, and its own
# "# Title" line becomes DESCRIPTION. go-md2man (Debian's go-md2man, what
# runc and podman make their pages with) turns it into roff, man-tables.awk
# folds its two-column tables; gzip -9n as
# Debian ships man pages (-n: no timestamp, so the .deb is reproducible).
file(READ "${IN}" text)
string(REPLACE "@PROJECT_VERSION@" "${VERSION}" text "${text}")
if(NOT text MATCHES "^% ")
  string(TOUPPER "${NAME}" title)
  string(REGEX REPLACE "^# [^\n]*\n" "" text "${text}")
  set(text "% ${title} ${SECTION} \"\" \"tether ${VERSION}\" \"tether\"\n\n# NAME\n${NAME} - ${SUMMARY}\n\n# DESCRIPTION\n${text}")
endif()
get_filename_component(out_dir "${OUT}" DIRECTORY)
file(WRITE "${out_dir}/${NAME}.${SECTION}.md" "${text}")
execute_process(COMMAND "${GO_MD2MAN}" -in "${out_dir}/${NAME}.${SECTION}.md" -out "${out_dir}/${NAME}.${SECTION}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go-md2man failed on ${IN}")
endif()
# Two-column tables fold to the page width (man-tables.awk says why).
execute_process(COMMAND awk -f "${CMAKE_CURRENT_LIST_DIR}/man-tables.awk"
                INPUT_FILE "${out_dir}/${NAME}.${SECTION}" OUTPUT_FILE "${out_dir}/${NAME}.${SECTION}.roff"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "man-tables.awk failed on ${out_dir}/${NAME}.${SECTION}")
endif()
file(RENAME "${out_dir}/${NAME}.${SECTION}.roff" "${out_dir}/${NAME}.${SECTION}")
execute_process(COMMAND gzip -9nf "${out_dir}/${NAME}.${SECTION}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip failed on ${out_dir}/${NAME}.${SECTION}")
endif()
