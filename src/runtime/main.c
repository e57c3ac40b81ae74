#include <stdio.h>

int main(void)
{
    puts("genops-collector " GENOPS_VERSION);
    return 0;
}
