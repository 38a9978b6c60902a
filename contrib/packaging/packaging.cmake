# What `cmake --install` adds besides the binaries, and the .deb
# (`cmake --build build --target package` -> build/tether_<version>_<arch>.deb).
#
# Installed under the prefix:
#   share/man/man8/tether.8.gz, tether-netd.8.gz, man7/tether-annotations.7.gz
#   share/bash-completion/completions/tether
#   share/doc/tether/{podman,containerd,docker,kubernetes,hooks.d,admin}/...
# Nothing is installed where a client would pick it up by itself: the
# snippets are examples an operator copies (docs/clients.md).

# ---------------------------------------------------------------- man pages
find_program(GO_MD2MAN go-md2man)
if(GO_MD2MAN)
  set(man_pages "")
  # name section source summary (the summary is used only for docs/ pages)
  foreach(page
      "tether|8|docs/man/tether.8.md|"
      "tether-netd|8|docs/man/tether-netd.8.md|"
      "tether-annotations|7|docs/annotations.md|the run.tether.* sandbox annotations of tether(8)")
    string(REPLACE "|" ";" page "${page}")
    list(GET page 0 name)
    list(GET page 1 section)
    list(GET page 2 source)
    list(GET page 3 summary)
    set(out ${CMAKE_BINARY_DIR}/man/${name}.${section}.gz)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_SOURCE_DIR}/${source} -DOUT=${out} -DNAME=${name}
              -DSECTION=${section} -DSUMMARY=${summary} -DVERSION=${PROJECT_VERSION}
              -DGO_MD2MAN=${GO_MD2MAN} -P ${CMAKE_SOURCE_DIR}/contrib/packaging/md-to-man.cmake
      DEPENDS ${CMAKE_SOURCE_DIR}/${source} ${CMAKE_SOURCE_DIR}/contrib/packaging/md-to-man.cmake
              ${CMAKE_SOURCE_DIR}/contrib/packaging/man-tables.awk
      COMMENT "man page ${name}(${section})"
      VERBATIM)
    list(APPEND man_pages ${out})
    install(FILES ${out} DESTINATION share/man/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${man_pages})
else()
  message(WARNING "go-md2man not found: no man pages (contrib/setup.sh installs it)")
endif()

# ---------------------------------------------------------------- completion
install(FILES contrib/completion/tether.bash DESTINATION share/bash-completion/completions RENAME tether)

# ---------------------------------------------------------------- snippets
set(doc_dir share/doc/tether)
install(FILES contrib/podman/tether.conf DESTINATION ${doc_dir}/podman)
install(FILES contrib/kubernetes/runtimeclass.yaml DESTINATION ${doc_dir}/kubernetes)
install(FILES contrib/admin/admin.json DESTINATION ${doc_dir}/admin)
install(FILES contrib/hooks.d/README.md DESTINATION ${doc_dir}/hooks.d)
# These name the binaries' paths: written for the prefix installed to
# (evaluated at install time, so a .deb for /usr says /usr/bin/tether).
foreach(snippet containerd/config.toml docker/daemon.json hooks.d/tether-netd.json)
  install(CODE "
    file(READ \"${CMAKE_SOURCE_DIR}/contrib/${snippet}\" text)
    string(REPLACE \"/usr/local/\" \"\${CMAKE_INSTALL_PREFIX}/\" text \"\${text}\")
    file(WRITE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${doc_dir}/${snippet}\" \"\${text}\")
    message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${doc_dir}/${snippet}\")
  ")
endforeach()

# ---------------------------------------------------------------- .deb
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tether)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tether developers <tether@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "OCI container runtime for sandboxing untrusted code")
# The control file's long description (CPack indents it under the summary).
set(CPACK_PACKAGE_DESCRIPTION "tether speaks runc's command line (podman, containerd and Kubernetes
RuntimeClasses, Docker). run.tether.* annotations turn a container into a
sandbox: Landlock rules, cgroup socket programs, a seccomp supervisor and a
per-container network daemon (tether-netd) that bridges listed host loopback
ports and runs an egress proxy.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # tether_<version>_<arch>.deb
# Install with DESTDIR and the real prefix, so that install(CODE) above sees
# /usr, not the staging directory.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Depends from the libraries the binaries link (dpkg-shlibdeps): tether is
# static-pie, tether-netd links glibc and libidn2.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "podman | containerd | docker.io")
include(CPack)
