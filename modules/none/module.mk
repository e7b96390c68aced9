# none: the pass-through encryption module.
MODULES += none
SRCS_none := modules/none/none.c
