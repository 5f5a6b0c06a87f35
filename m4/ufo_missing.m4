# UFO_MISSING(WHAT, DEBIAN-PACKAGE)
# ---------------------------------
# Stop configure with one line naming the Debian package that provides WHAT, for a
# dependency that is not found.
AC_DEFUN([UFO_MISSING],
  [AC_MSG_ERROR([$1 not found: install the Debian package $2 (apt-get install $2)])])
