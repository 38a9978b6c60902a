# man-tables.awk: two-column tables of go-md2man's roff fit the page. The
# second column expands to the line width ("lx") and its cells become text
# blocks (T{ ... T}), so a long rule folds instead of running past the right
# margin (docs/annotations.md's "Formats"). Wider tables are left as they are:
# with long first cells, folding them leaves columns a word wide.
/^\.TS/ { intable = 1; body = 0; wrap = 0; print; next }
intable && !body && /^allbox;/ { print; next }
intable && !body {
    last = ($0 ~ /\.[ \t]*$/)
    line = $0
    sub(/[ \t]*\.?[ \t]*$/, "", line)
    wrap = (line ~ /^l[ \t]+l$/)
    print (wrap ? "l lx" (last ? " ." : "") : $0)
    if (last) body = 1
    next
}
intable && /^\.TE/ { intable = 0; inblock = 0; print; next }
intable && (inblock || !wrap) { print; if ($0 ~ /^T}/) inblock = 0; next }
intable {
    n = split($0, f, "\t")
    if (n == 2 && f[2] != "T{") { print f[1] "\tT{"; print f[2]; print "T}"; next }
    if (f[n] == "T{") inblock = 1
    print
    next
}
{ print }
