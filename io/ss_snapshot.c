/* placeholder until the snapshot reader lands */
#include "ss_snapshot.h"
