#include "runtime/runtime.h"

int main(int argc, char **argv)
{
    return rt_main(argc, argv);
}
