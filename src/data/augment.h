/* Per-sample training and evaluation transforms: AutoAugment, bicubic resize, pad and crop,
 * flip, normalise to [-1, 1] into planar float CHW, random erasing. */
#ifndef UFO_DATA_AUGMENT_H
#define UFO_DATA_AUGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include <ufo/status.h>

#include "data/image.h"
#include "data/rng.h"

/* Which parts of the training transform run and with what parameters. */
struct data_transform {
    int width, height;          /* network input size */
    bool autoaugment;           /* ImageNet AutoAugment policy, applied with aa_prob */
    bool pad_crop;              /* pad `pad` black pixels per side, crop back at random */
    bool flip;                  /* horizontal flip with flip_prob */
    bool erase;                 /* random erasing with erase_prob */
    float aa_prob, flip_prob, erase_prob;
    int pad;
    float erase_area_min, erase_area_max;     /* fraction of the image */
    float erase_aspect_min, erase_aspect_max; /* height / width of the erased box */
};

/* The training defaults: every part on, p 0.5 each, pad 10, erasing 2%-33% area and aspect
 * 0.3-3.3. */
void data_transform_defaults(struct data_transform *t, int width, int height);

/* The AutoAugment operations; magnitudes use each operation's natural unit. */
enum data_aa_op {
    DATA_AA_SHEAR_X,        /* x_in = x + v·y, v a shear factor */
    DATA_AA_SHEAR_Y,
    DATA_AA_TRANSLATE_X,    /* shift right by v pixels */
    DATA_AA_TRANSLATE_Y,    /* shift down by v pixels */
    DATA_AA_ROTATE,         /* v degrees counter-clockwise about the centre */
    DATA_AA_AUTO_CONTRAST,
    DATA_AA_INVERT,
    DATA_AA_EQUALIZE,
    DATA_AA_SOLARIZE,       /* invert values >= v */
    DATA_AA_POSTERIZE,      /* keep the top v bits */
    DATA_AA_CONTRAST,       /* blend with the mean grey by factor v */
    DATA_AA_COLOR,          /* blend with the pixel's grey by factor v */
    DATA_AA_BRIGHTNESS,     /* blend with black by factor v */
    DATA_AA_SHARPNESS,      /* blend with a 3×3 smoothed copy by factor v */
    DATA_AA_COUNT
};

/* Apply one operation in place. Geometric ones sample nearest pixels and fill with black. */
ufo_status data_aa_apply(enum data_aa_op op, double value, struct data_image *img);

/* The value of a policy magnitude (0..9) for `op` on a width × height image, before the sign
 * (shear 0-0.3, translate 0-150/331 of the side, rotate 0-30°, enhance factors 1 ± 0-0.9,
 * posterize 8-4 bits, solarize 255-0). `sign` is +1 or -1 and only affects signed ops. */
double data_aa_value(enum data_aa_op op, int magnitude, int sign, int width, int height);

/* With probability `prob`, apply one of the 25 ImageNet sub-policies drawn from `rng`. */
ufo_status data_autoaugment(struct data_image *img, float prob, struct data_rng *rng);

/* Bicubic resize (Keys a = -0.5, the filter widened by the scale when shrinking so it
 * averages instead of aliasing) of `src` to w × h float RGB, interleaved HWC, values clamped
 * to [0, 255]. */
ufo_status data_resize_bicubic(const struct data_image *src, int w, int h, float *dst);

/* Draw an erasing box for an h × w image; returns false when none fits in ten tries (then
 * nothing is erased, as in the reference method). */
bool data_erase_box(const struct data_transform *t, struct data_rng *rng, int h, int w,
                    int *y0, int *x0, int *eh, int *ew);

/* Training transform of one sample keyed by (seed, step, sample): `img` is modified in place
 * by AutoAugment; `out` receives 3 × height × width floats in [-1, 1] (noise may exceed). */
ufo_status data_transform_train(const struct data_transform *t, struct data_image *img,
                                uint64_t seed, uint64_t step, uint32_t sample, float *out);

/* Evaluation transform: resize and normalise into 3 × height × width floats. */
ufo_status data_transform_eval(const struct data_transform *t, const struct data_image *img,
                               float *out);

#endif
