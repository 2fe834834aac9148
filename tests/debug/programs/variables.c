/* The test program of tests/debug/test_variables.py: C variables of every
 * common kind for the debugger to read back by name (parameters, locals in a
 * nested block, globals, a struct holding a struct, pointers, an array, an
 * enum, chars, floats, 64-bit integers).  build.sh compiles it with -O0
 * (variables in the shadow stack, at frame-base offsets) and with -O2
 * (variables in wasm locals and on the operand stack, by location lists).
 * The tests hard-code line numbers: keep them in step when editing. */

struct point {
    int x;
    int y;
};

struct shape {
    const char *name;
    struct point origin;
    unsigned char sides;
    float scale;
    struct point *corner;
};

enum colour { RED, GREEN = 5, BLUE };

int counter = 3;
static struct point origin = {1, 2};
struct point corners[3] = {{0, 0}, {4, 0}, {4, 3}};

__attribute__((noinline)) int area(struct point *a, struct point *b) {
    int width = b->x - a->x;
    int height = b->y - a->y;
    return width * height;
}

int walk(int steps) {
    struct point here = {0, 0};
    struct point *cursor = &here;
    enum colour colour = GREEN;
    double total = 0.5;
    char letter = 'w';
    unsigned long long big = 1ULL << 40;
    struct shape box = {"box", {1, 1}, 4, 1.5f, &corners[1]};
    for (int step = 0; step < steps; step++) {
        cursor->x += step;
        cursor->y -= 1;
        total = total * 2;
        counter = counter + 1;
    }
    return here.x + area(&origin, &corners[2]) + (int)total + colour + letter + (int)(big >> 40) + box.sides;
}
