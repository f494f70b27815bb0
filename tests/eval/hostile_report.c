/* Writes a report whose title, split, class names and config hold control bytes and bytes that are not UTF-8: `hostile_report DIR`. */
#include <stdio.h>

#include "core/error.h"
#include "eval/metrics.h"
#include "eval/report.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    /* an ANSI escape, a stray Latin-1 byte, a NUL-free C0 byte, an overlong '/', a surrogate, U+FFFE */
    static const char *const names[3] = {"N\x1b[31m", "caf\xe9 <&>", "x\x01\xc0\xaf\xed\xa0\x80\xef\xbf\xbe\""};
    static const int64_t cm[9] = {5, 1, 0, 2, 4, 1, 0, 1, 6};
    struct ecg_metrics m;
    struct ecg_error err = {0};
    if (ecg_metrics_from_confusion(&m, 3, names, cm, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    struct ecg_epoch_row rows[2] = {{.epoch = 1, .train_loss = 1, .val_loss = 1.2, .val_macro_f1 = 0.3},
                                    {.epoch = 2, .train_loss = 0.8, .val_loss = 1.0, .val_macro_f1 = 0.5}};
    struct ecg_report r = {.title = "run \x02\xff\x1b]0;title\x07", .split = "te\x0bst", .metrics = &m,
                           .epochs = rows, .n_epochs = 2, .config_text = "run:\n  name: \"\xfe\x1b[2J\"\n"};
    int rc = ecg_report_write(argv[1], &r, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    ecg_metrics_free(&m);
    return rc ? 1 : 0;
}
