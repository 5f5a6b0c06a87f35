/* Decoding a dataset item (JPEG, PNG, raw pixels) into 8-bit interleaved RGB. */
#ifndef UFO_DATA_IMAGE_H
#define UFO_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <ufo/status.h>

#include "data/dataset.h"

/* An 8-bit RGB image, rows top to bottom, pixels[(y * width + x) * 3 + c]. */
struct data_image {
    int width, height;
    uint8_t *pixels;
};

/* Transparent PNG pixels are composited over this grey level. */
#define DATA_BACKGROUND 255

/* Images with more pixels than this are refused (a corrupt header can claim gigapixels). */
#define DATA_MAX_PIXELS (1u << 28)

/* Per-thread decoding state (the TurboJPEG handle and a reusable file buffer). */
struct data_decoder;

ufo_status data_decoder_new(struct data_decoder **out);
void data_decoder_free(struct data_decoder *dec);

/* Decode `item` of `ds` into `img` (allocated here; free with data_image_free). When want_w
 * and want_h are positive, a JPEG is shrunk by the largest DCT scale factor that keeps it at
 * least want_w × want_h (free, inexact downscaling; the caller resizes exactly afterwards).
 * Fails with UFO_ERR_IO (unreadable) or UFO_ERR_FORMAT (empty, truncated, corrupt, not an
 * image), the message naming the file. */
ufo_status data_decode_item(struct data_decoder *dec, const struct data_set *ds,
                            const struct data_item *item, int want_w, int want_h,
                            struct data_image *img);

/* Decode JPEG or PNG bytes; `name` is used in error messages. */
ufo_status data_decode_bytes(struct data_decoder *dec, const uint8_t *bytes, size_t size,
                             const char *name, int want_w, int want_h, struct data_image *img);

/* Allocate an uninitialised width × height image. */
ufo_status data_image_alloc(struct data_image *img, int width, int height);

void data_image_free(struct data_image *img);

#endif
