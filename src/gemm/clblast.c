/* The CLBlast engine: row-major SGEMM and strided-batched SGEMM, failures named. */
#include "config.h"

#include <string.h>

#include <clblast_c.h>

#include "device/device.h"
#include "gemm/engine.h"

/* CLBlast's own codes; the ones shared with OpenCL take OpenCL's names. */
static const char *clblast_status_name(CLBlastStatusCode code) {
    switch (code) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: return ufo_cl_error_name((cl_int)code);
    }
}

static ufo_status clblast_fail(CLBlastStatusCode code, const char *call) {
    return ufo_fail(UFO_ERR_CLBLAST, "%s: %s", call, clblast_status_name(code));
}

ufo_status gemm_clblast(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb, size_t m,
                        size_t n, size_t k, float alpha, struct ufo_matrix a, size_t stride_a,
                        struct ufo_matrix b, size_t stride_b, float beta, struct ufo_matrix c,
                        size_t stride_c, size_t batch) {
    CLBlastTranspose cta = ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose ctb = tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode code;
    if (batch == 1) {
        code = CLBlastSgemm(CLBlastLayoutRowMajor, cta, ctb, m, n, k, alpha, a.buf, a.offset,
                            a.ld, b.buf, b.offset, b.ld, beta, c.buf, c.offset, c.ld,
                            &dev->queue, NULL);
        return code == CLBlastSuccess ? UFO_OK : clblast_fail(code, "CLBlastSgemm");
    }
    code = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, cta, ctb, m, n, k, alpha, a.buf,
                                      a.offset, a.ld, stride_a, b.buf, b.offset, b.ld, stride_b,
                                      beta, c.buf, c.offset, c.ld, stride_c, batch, &dev->queue,
                                      NULL);
    return code == CLBlastSuccess ? UFO_OK : clblast_fail(code, "CLBlastSgemmStridedBatched");
}

/* Hand CLBlast the tuned parameters from the settings file, one kernel family at a time. */
ufo_status gemm_clblast_apply_settings(ufo_device *dev, const struct gemm_settings *s) {
    for (size_t i = 0; i < s->n_clblast;) {
        const char *kernel = s->clblast[i].kernel;
        const char *names[64];
        size_t values[64], count = 0;
        for (; i < s->n_clblast && strcmp(s->clblast[i].kernel, kernel) == 0; i++) {
            names[count] = s->clblast[i].name;
            values[count++] = s->clblast[i].value;
        }
        CLBlastStatusCode code = CLBlastOverrideParameters(dev->id, kernel,
                                                           CLBlastPrecisionSingle, count, names,
                                                           values);
        if (code != CLBlastSuccess)
            return ufo_fail(UFO_ERR_CLBLAST, "CLBlastOverrideParameters(%s, from %s): %s",
                            kernel, s->source, clblast_status_name(code));
    }
    return UFO_OK;
}
