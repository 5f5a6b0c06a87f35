/* The host path of eval_rank: one query's scores against the whole gallery at a time. Meant
 * for small sets, tests and machines without a device. */
#include "config.h"

#include <stdlib.h>

#include "eval/rank.h"

/* Score of query q against gallery row g: q·g for cosine (rows are normalised), or
 * 2 q·g - |g|², which orders the gallery as the negated squared distance does. */
static float host_score(const struct eval_problem *p, size_t q, size_t g) {
    size_t d = p->task->dim;
    const float *x = p->query + q * d, *y = p->gallery + g * d;
    double dot = 0;
    for (size_t k = 0; k < d; k++) dot += (double)x[k] * y[k];
    float s = (float)dot;
    return p->gallery_sq ? 2.0f * s - p->gallery_sq[g] : s;
}

ufo_status eval_host_run(struct eval_problem *p) {
    const struct eval_rank_task *t = p->task;
    for (size_t i = 0; i < p->n_pairs; i++)
        p->pair_score[i] = host_score(p, p->pair_query[i], p->pair_gallery[i]);
    if (t->first_only) eval_keep_best(p);

    float *row = malloc(t->n_gallery * sizeof *row);
    if (!row) return ufo_fail(UFO_ERR_NOMEM, "no memory for a score row of %zu", t->n_gallery);
    for (size_t q = 0; q < t->n_query; q++) {
        size_t a = p->pair_offset[q], b = p->pair_offset[q + 1];
        if (a == b) continue;
        for (size_t g = 0; g < t->n_gallery; g++) row[g] = host_score(p, q, g);
        for (size_t i = a; i < b; i++) {
            float s = p->pair_score[i];
            uint32_t m = p->pair_gallery[i], n = 0;
            for (size_t g = 0; g < t->n_gallery; g++)
                if ((row[g] > s || (row[g] == s && g < m)) && eval_valid(t, q, g)) n++;
            p->pair_count[i] = n;
        }
    }
    free(row);
    return UFO_OK;
}
