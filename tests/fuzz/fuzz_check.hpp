// What the fuzz targets assert beyond "no crash, no sanitizer report": a broken contract
// aborts, so libFuzzer keeps the input as a reproducer.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CK_FUZZ_CHECK(condition)                                                          \
    do {                                                                                  \
        if (!(condition)) {                                                               \
            std::fprintf(stderr, "%s:%d: CK_FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, \
                         #condition);                                                     \
            std::abort();                                                                 \
        }                                                                                 \
    } while (false)
