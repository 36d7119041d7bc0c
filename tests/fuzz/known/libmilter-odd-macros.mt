# mtclient script: a macro packet with an odd number of strings, then MAIL.
# libmilter 8.17.1 (Debian 12) smfi_getsymval() walks the list two at a
# time and reads past its end: greyrep dies with SIGSEGV in on_envfrom.
# Not a greyrep bug, and no MTA sends this; see doc/SECURITY.md.
#   build/tests/bench/mtclient -s unix:/path/greyrep.sock tests/fuzz/known/libmilter-odd-macros.mt
connect client.example.org 192.0.2.200 40000
helo client.example.org
rawnr D M{a}\0v\0{b}\0
mail <normal@example.org>
rcpt <x@example.net>
quit
