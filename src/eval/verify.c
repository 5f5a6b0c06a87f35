/* Face verification accuracy with k-fold threshold selection, as the LFW-style benchmarks
 * (LFW, CFP, AgeDB, CALFW, CPLFW) are scored in the face-recognition literature. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "eval/metrics.h"

#define VERIFY_THRESHOLDS 400 /* 0.00, 0.01, ..., 3.99 */

/* Accuracy over pairs [a, b) except [skip_a, skip_b) at threshold t: a pair is called the
 * same person when its distance is below t. */
static double verify_accuracy(const double *dist, const struct eval_pair *pairs, size_t a,
                              size_t b, size_t skip_a, size_t skip_b, double t) {
    size_t right = 0, total = 0;
    for (size_t i = a; i < b; i++) {
        if (i >= skip_a && i < skip_b) continue;
        right += (dist[i] < t) == (pairs[i].same != 0);
        total++;
    }
    return total ? (double)right / (double)total : 0;
}

ufo_status eval_verify(const float *features, const float *flip, size_t n, size_t dim,
                       const struct eval_pair *pairs, size_t n_pairs, int folds,
                       struct eval_report *out) {
    eval_report_init(out, "verify", flip
                     ? "feature + mirrored feature, L2-normalised, squared distance, "
                       "k-fold threshold"
                     : "L2-normalised features, squared distance, k-fold threshold",
                     EVAL_EUCLIDEAN);
    if (folds < 2 || folds > 64 || (size_t)folds > n_pairs)
        return ufo_fail(UFO_ERR_INVALID, "%d folds cannot split %zu pairs", folds, n_pairs);
    for (size_t i = 0; i < n_pairs; i++)
        if (pairs[i].a >= n || pairs[i].b >= n)
            return ufo_fail(UFO_ERR_INVALID, "pair %zu names row %zu, but there are %zu "
                            "features", i, pairs[i].a >= n ? pairs[i].a : pairs[i].b, n);

    /* the squared distance of each pair between normalised (flip-summed) features */
    double *dist = malloc(n_pairs * sizeof *dist + 1);
    double *emb = malloc(2 * dim * sizeof *emb + 1);
    if (!dist || !emb) {
        free(dist);
        free(emb);
        return ufo_fail(UFO_ERR_NOMEM, "no memory for %zu pairs", n_pairs);
    }
    for (size_t i = 0; i < n_pairs; i++) {
        size_t rows[2] = {pairs[i].a, pairs[i].b};
        for (int s = 0; s < 2; s++) {
            double ss = 0;
            for (size_t k = 0; k < dim; k++) {
                double x = features[rows[s] * dim + k];
                if (flip) x += flip[rows[s] * dim + k];
                if (!isfinite(x)) {
                    free(dist);
                    free(emb);
                    return ufo_fail(UFO_ERR_NUMERIC, "feature row %zu holds a NaN or Inf at "
                                    "column %zu", rows[s], k);
                }
                emb[s * dim + k] = x;
                ss += x * x;
            }
            double scale = 1.0 / fmax(sqrt(ss), 1e-12);
            for (size_t k = 0; k < dim; k++) emb[s * dim + k] *= scale;
        }
        double d = 0;
        for (size_t k = 0; k < dim; k++) d += (emb[k] - emb[dim + k]) * (emb[k] - emb[dim + k]);
        dist[i] = d;
    }
    free(emb);

    /* contiguous folds: the first n_pairs % folds of them hold one pair more */
    double acc_sum = 0, acc_sq = 0, thr_sum = 0, fold_acc[64];
    size_t start = 0;
    for (int f = 0; f < folds; f++) {
        size_t size = n_pairs / (size_t)folds + ((size_t)f < n_pairs % (size_t)folds);
        size_t end = start + size;
        int best = 0;
        double best_acc = -1;
        for (int t = 0; t < VERIFY_THRESHOLDS; t++) {
            double acc = verify_accuracy(dist, pairs, 0, n_pairs, start, end, t * 0.01);
            if (acc > best_acc) {
                best_acc = acc;
                best = t;
            }
        }
        double acc = verify_accuracy(dist, pairs, start, end, 0, 0, best * 0.01);
        fold_acc[f] = acc;
        acc_sum += acc;
        acc_sq += acc * acc;
        thr_sum += best * 0.01;
        start = end;
    }
    free(dist);

    double mean = acc_sum / folds;
    double var = fmax(acc_sq / folds - mean * mean, 0);
    eval_report_add(out, "pairs", (double)n_pairs, EVAL_COUNT);
    eval_report_add(out, "accuracy", mean, EVAL_FRACTION);
    eval_report_add(out, "accuracy std", sqrt(var), EVAL_FRACTION);
    eval_report_add(out, "threshold", thr_sum / folds, EVAL_NUMBER);
    for (int f = 0; f < folds; f++) {
        char name[32];
        snprintf(name, sizeof name, "fold-%d accuracy", f + 1);
        eval_report_add(out, name, fold_acc[f], EVAL_FRACTION);
    }
    return UFO_OK;
}
