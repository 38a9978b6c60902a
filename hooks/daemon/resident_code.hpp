// tether-netd's resident code, given back once it has started.
//
// The daemon's RSS (issue 23: at most 2.5 MB per sandbox) is mostly file
// pages of code: its own text and libc's, mapped by the faults of whatever
// it ran. Start-up runs far more of it than serving does (the first daemon
// on a host generates and loads the socket programs; every one parses the
// policy, attaches, makes slots), and those pages stayed mapped for the
// daemon's life. drop_resident_code() unmaps the process's executable file
// pages (MADV_DONTNEED on its r-x file mappings): they stay in the page
// cache, shared, and what the daemon runs next faults back in. Only r-x
// mappings: their pages are never written, so a refault reads the same
// bytes from the file (a relocated read-only page, RELRO, would not be).
// A breakpoint a debugger or a uprobe put into the daemon's text before the
// drop lives in a private copy of its page, and goes with it.
#pragma once

#include <cstddef>

namespace tether::hooks {

// Returns the bytes of executable mappings it dropped (0 when /proc/self/maps
// cannot be read: nothing is changed then).
size_t drop_resident_code();

}  // namespace tether::hooks
