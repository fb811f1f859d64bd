# fragment of Makefile.am: see the header of Makefile.am
