/* Included ahead of every ufo kernel file. */
#define UFO_KERNEL 1

/* Element (i, j) of a row-major matrix with leading dimension ld. */
#define AT(p, i, j, ld) ((p)[(size_t)(i) * (ld) + (j)])
