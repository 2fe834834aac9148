/* An integer loop over linear memory: the sieve of Eratosthenes. */
#define LIMIT 200000
static unsigned char composite[LIMIT + 1];

int count_primes(int limit) {
    if (limit > LIMIT) limit = LIMIT;
    for (int i = 0; i <= limit; i++) composite[i] = 0;
    int count = 0;
    for (int i = 2; i <= limit; i++) {
        if (!composite[i]) {
            count++;
            for (int j = i * 2; j <= limit; j += i) composite[j] = 1;
        }
    }
    return count;
}
