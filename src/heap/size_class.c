/*
 * size_class.c -- the size-class table and its lookup tables.
 * See size_class.h for the design.
 */
#include "size_class.h"

#include <pthread.h>

#include "../base/throw.h"

/* Go's classes: bytes per object and pages per span (facts from Go's
 * sizeclasses.go, without the 24-byte class). */
static const uint32_t class_table[NUM_SIZE_CLASSES][2] = {
    {0, 0},
    {8, 1},     {16, 1},    {32, 1},    {48, 1},    {64, 1},    {80, 1},
    {96, 1},    {112, 1},   {128, 1},   {144, 1},   {160, 1},   {176, 1},
    {192, 1},   {208, 1},   {224, 1},   {240, 1},   {256, 1},   {288, 1},
    {320, 1},   {352, 1},   {384, 1},   {416, 1},   {448, 1},   {480, 1},
    {512, 1},   {576, 1},   {640, 1},   {704, 1},   {768, 1},   {896, 1},
    {1024, 1},  {1152, 1},  {1280, 1},  {1408, 2},  {1536, 1},  {1792, 2},
    {2048, 1},  {2304, 2},  {2688, 1},  {3072, 3},  {3200, 2},  {3456, 3},
    {4096, 1},  {4864, 3},  {5376, 2},  {6144, 3},  {6528, 4},  {6784, 5},
    {6912, 6},  {8192, 1},  {9472, 7},  {9728, 6},  {10240, 5}, {10880, 4},
    {12288, 3}, {13568, 5}, {14336, 7}, {16384, 2}, {18432, 9}, {19072, 7},
    {20480, 5}, {21760, 8}, {24576, 3}, {27264, 10}, {28672, 7}, {32768, 4},
};

size_class_info size_classes[NUM_SIZE_CLASSES];
uint8_t size_to_class8[SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
uint8_t size_to_class128[(MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];

static void size_class_fill(void)
{
    for (unsigned c = 1; c < NUM_SIZE_CLASSES; c++) {
        size_class_info *ci = &size_classes[c];
        ci->size = class_table[c][0];
        ci->npages = class_table[c][1];
        ci->nelems = (uint32_t)(ci->npages * PAGE_SIZE / ci->size);
        ci->divmul = UINT32_MAX / ci->size + 1;
        CHECK(ci->nelems <= MAX_OBJS_PER_SPAN);
    }
    /* Each lookup slot holds the smallest class that fits its size. */
    unsigned c = 1;
    for (size_t i = 0; i < sizeof size_to_class8; i++) {
        size_t size = i * SMALL_SIZE_DIV;
        while (size_classes[c].size < size)
            c++;
        size_to_class8[i] = (uint8_t)c;
    }
    c = 1;
    for (size_t i = 0; i < sizeof size_to_class128; i++) {
        size_t size = SMALL_SIZE_MAX + i * LARGE_SIZE_DIV;
        while (size_classes[c].size < size)
            c++;
        size_to_class128[i] = (uint8_t)c;
    }
}

/* Once per process: tc_type_new calls it too (a type records its span
 * class), and may run while other threads read the tables. */
static pthread_once_t size_class_once = PTHREAD_ONCE_INIT;

void size_class_init(void)
{
    pthread_once(&size_class_once, size_class_fill);
}
