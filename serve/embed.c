/* Build tool: turns a file into a C array (the upload page and the OpenAPI document live in the binary). */
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ecgembed INPUT OUTPUT.c SYMBOL\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "w");
    if (!in || !out) {
        fprintf(stderr, "ecgembed: cannot open %s\n", !in ? argv[1] : argv[2]);
        return 1;
    }
    fprintf(out,
            "/* Generated from %s by ecgembed; do not edit. */\n#include <stddef.h>\n\nconst char %s[] = {",
            argv[1], argv[3]);
    long n = 0;
    for (int c; (c = fgetc(in)) != EOF; n++)
        fprintf(out, "%s%d,", n % 24 ? "" : "\n", c);
    fprintf(out, "0};\nconst size_t %s_size = %ld;\n", argv[3], n);
    int bad = ferror(in) || ferror(out);
    fclose(in);
    if (fclose(out) != 0 || bad) {
        fprintf(stderr, "ecgembed: error writing %s\n", argv[2]);
        return 1;
    }
    return 0;
}
