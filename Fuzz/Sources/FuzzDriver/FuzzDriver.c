// Only the header matters: the symbol comes from libFuzzer.
#include "FuzzDriver.h"
