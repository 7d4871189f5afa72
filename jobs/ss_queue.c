/* placeholder */
#include "ss_cluster.h"
