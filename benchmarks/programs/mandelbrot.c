/* Floating point: iterations of the Mandelbrot set over a grid. */
int mandelbrot(int size, int max_iterations) {
    int inside = 0;
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            double cr = 2.0 * x / size - 1.5, ci = 2.0 * y / size - 1.0;
            double zr = 0.0, zi = 0.0;
            int i = 0;
            while (i < max_iterations && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                i++;
            }
            if (i == max_iterations) inside++;
        }
    }
    return inside;
}
