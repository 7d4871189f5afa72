/* shardsched inspect (not yet implemented). */
#include <stdio.h>

#include "ss_cli.h"

int ss_cmd_inspect(int argc, char **argv, MPI_Comm comm)
{
    (void)argc;
    (void)argv;
    (void)comm;
    fprintf(stderr, "shardsched inspect: not implemented yet\n");
    return 2;
}
