/*
 * Stylizes an image through the nst C ABI: a synthetic 48x32 RGBA gradient, or nothing else needed.
 *
 *   cc stylize.c -I plugin/include -L target/release -lnst -Wl,-rpath,target/release -o stylize
 *   ./stylize [preset] [out.ppm]
 *
 * Shows the whole life of a host: ABI check, engine, description, a run with progress and a report,
 * error messages, and freeing everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nst.h"

static int32_t on_progress(void *user_data, uint32_t step, uint32_t total, double loss) {
    int *calls = (int *)user_data;
    ++*calls;
    printf("step %u/%u loss %.4e\n", step, total, loss);
    return 0; /* non-zero would cancel */
}

/* malloc that ends the program with a message rather than returning NULL. */
static void *checked_malloc(size_t size) {
    void *block = malloc(size);
    if (!block) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        exit(2);
    }
    return block;
}

static void print_error(const char *what, NstStatus status) {
    size_t length = nst_last_error(NULL, 0);
    char *message = checked_malloc(length + 1);
    nst_last_error(message, length + 1);
    fprintf(stderr, "%s failed (status %u): %s\n", what, (unsigned)status, message);
    free(message);
}

int main(int argc, char **argv) {
    const char *preset = argc > 1 ? argv[1] : "mosaic";
    const char *out_path = argc > 2 ? argv[2] : NULL;

    if (nst_abi_version() != NST_ABI_VERSION) {
        fprintf(stderr, "ABI %u, expected %u\n", nst_abi_version(), NST_ABI_VERSION);
        return 1;
    }
    printf("nst %s, ABI %u\n", nst_version(), nst_abi_version());

    NstEngine *engine = NULL;
    NstStatus status = nst_engine_create("provider = \"cpu\"\nthreads = 2\n", &engine);
    if (status != NST_OK) {
        print_error("nst_engine_create", status);
        return 1;
    }

    size_t needed = 0;
    nst_engine_describe(engine, NULL, 0, &needed);
    char *description = checked_malloc(needed);
    status = nst_engine_describe(engine, description, needed, &needed);
    printf("description: %zu bytes, %s\n", needed, status == NST_OK ? "ok" : "failed");
    free(description);

    const uint32_t width = 48, height = 32;
    size_t stride = width * 4;
    uint8_t *content = checked_malloc(stride * height);
    uint8_t *output = checked_malloc(stride * height);
    for (uint32_t y = 0; y < height; ++y) {
        for (uint32_t x = 0; x < width; ++x) {
            uint8_t *p = content + y * stride + x * 4;
            p[0] = (uint8_t)(x * 5);
            p[1] = (uint8_t)(y * 7);
            p[2] = 128;
            p[3] = (uint8_t)(255 - x * 5);
        }
    }
    memset(output, 0, stride * height);

    NstImage content_view = {width, height, stride, NST_RGBA8, content};
    NstImageMut output_view = {width, height, stride, NST_RGBA8, output};
    NstOverrides overrides;
    nst_overrides_init(&overrides, sizeof overrides);
    overrides.size = 48;
    overrides.iterations = 3;
    NstRunReport report;
    int calls = 0;

    /* A bad argument is refused with a message naming it, before any work. */
    NstImage bad = content_view;
    bad.stride = 3;
    status = nst_stylize(engine, preset, &overrides, &bad, NULL, 0, &output_view, NULL, NULL, NULL);
    print_error("nst_stylize with a bad stride (expected)", status);

    status = nst_stylize(engine, preset, &overrides, &content_view, NULL, 0, &output_view, on_progress, &calls, &report);
    int failed = 0;
    if (status != NST_OK) {
        print_error("nst_stylize", status);
        failed = 1;
    } else {
        int alpha_kept = 1, changed = 0;
        for (size_t i = 0; i < stride * height; i += 4) {
            alpha_kept &= output[i + 3] == content[i + 3];
            changed |= output[i] != content[i];
        }
        printf("report: %u iterations, %u evaluations, %.2f s, provider %s, model %s\n", report.iterations,
               report.evaluations, report.seconds, report.provider, report.model);
        printf("callbacks %d, alpha kept %d, pixels changed %d\n", calls, alpha_kept, changed);
        failed = !(alpha_kept && changed && calls == 3);
        if (out_path) {
            FILE *file = fopen(out_path, "wb");
            if (!file) {
                perror(out_path);
                failed = 1;
            } else {
                fprintf(file, "P6\n%u %u\n255\n", width, height);
                for (size_t i = 0; i < stride * height; i += 4) fwrite(output + i, 1, 3, file);
                if (fclose(file) != 0) {
                    perror(out_path);
                    failed = 1;
                }
            }
        }
    }
    free(content);
    free(output);
    if (nst_engine_free(engine) != NST_OK) failed = 1;
    if (nst_engine_free(NULL) != NST_OK) failed = 1;                  /* accepted */
    if (nst_engine_free(engine) != NST_INVALID_HANDLE) failed = 1;    /* a second free is refused, not a crash */
    printf(failed ? "FAILED\n" : "ok\n");
    return failed;
}
