/* Tests of the request parsers: multipart/form-data, query parameters, the JSON signal and CSV samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serve/input.h"
#include "serve/multipart.h"
#include "tests/test_util.h"

static const struct ecg_multipart_limits limits = {8, 1 << 20};

static int parse(const char *body, size_t size, struct ecg_multipart_part **parts, int32_t *n,
                 struct ecg_error *err)
{
    return ecg_multipart_parse((const unsigned char *)body, size, "XyZ", &limits, parts, n, err);
}

static void boundary_comes_from_the_content_type_quoted_or_not(void)
{
    char b[80];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof b, &err),
                    ECG_OK);
    CU_ASSERT_STRING_EQUAL(b, "abc123");
    CU_ASSERT_EQUAL(
        ecg_multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b;c\"", b, sizeof b, &err),
        ECG_OK);
    CU_ASSERT_STRING_EQUAL(b, "a b;c");
}

static void content_type_without_a_boundary_is_named(void)
{
    char b[80];
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(ecg_multipart_boundary("multipart/form-data", b, sizeof b, &err), &err, ECG_ERR_FORMAT,
                    "no boundary parameter");
    ECG_CHECK_ERROR(ecg_multipart_boundary("text/plain", b, sizeof b, &err), &err, ECG_ERR_FORMAT,
                    "expected multipart/form-data");
    char longb[120] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'a', 80);
    ECG_CHECK_ERROR(ecg_multipart_boundary(longb, b, sizeof b, &err), &err, ECG_ERR_FORMAT, "80 characters");
}

static void parts_keep_names_filenames_types_and_binary_bytes(void)
{
    /* The second part holds a NUL, a CR LF and a fake boundary prefix: binary-safe. */
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"fs\"\r\n\r\n"
                               "300\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"file\"; filename=\"A00001.mat\"\r\n"
                               "Content-Type: application/octet-stream\r\n\r\n"
                               "ab\0c\r\n--Xy\r\n"
                               "--XyZ--\r\n";
    struct ecg_multipart_part *p;
    int32_t n;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(parse(body, sizeof body - 1, &p, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(p[0].name, "fs");
    CU_ASSERT_STRING_EQUAL(p[0].filename, "");
    CU_ASSERT_EQUAL(p[0].size, 3);
    CU_ASSERT_EQUAL(memcmp(p[0].data, "300", 3), 0);
    CU_ASSERT_STRING_EQUAL(p[1].name, "file");
    CU_ASSERT_STRING_EQUAL(p[1].filename, "A00001.mat");
    CU_ASSERT_STRING_EQUAL(p[1].content_type, "application/octet-stream");
    CU_ASSERT_EQUAL(p[1].size, 10);
    CU_ASSERT_EQUAL(memcmp(p[1].data, "ab\0c\r\n--Xy", 10), 0);
    free(p);
}

static void malformed_multipart_bodies_get_one_message_each(void)
{
    static const struct {
        const char *body, *needle;
        enum ecg_status code;
    } cases[] = {
        {"no boundary here", "boundary 'XyZ' not found", ECG_ERR_FORMAT},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc",
         "part 1: truncated (no boundary after", ECG_ERR_FORMAT},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"", "part 1: truncated (no blank line",
         ECG_ERR_FORMAT},
        {"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", "part 1: no Content-Disposition",
         ECG_ERR_FORMAT},
        {"--XyZ\r\nContent-Disposition: attachment\r\n\r\nx\r\n--XyZ--", "expected form-data",
         ECG_ERR_FORMAT},
        {"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--", "has no name", ECG_ERR_FORMAT},
        {"--XyZ\r\nbroken header\r\n\r\nx\r\n--XyZ--", "header line without ':'", ECG_ERR_FORMAT},
        {"--XyZ--\r\n", "no parts", ECG_ERR_FORMAT},
        {"--XyZjunk", "not followed by CRLF", ECG_ERR_FORMAT},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ", "truncated after part 1",
         ECG_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ecg_multipart_part *p = NULL;
        int32_t n;
        struct ecg_error err = {0};
        ECG_CHECK_ERROR(parse(cases[i].body, strlen(cases[i].body), &p, &n, &err), &err, cases[i].code,
                        cases[i].needle);
        CU_ASSERT_PTR_NULL(p);
    }
}

static void part_count_and_part_size_limits_are_enforced(void)
{
    char body[4096] = "";
    for (int i = 0; i < 9; i++)
        strcat(body,
               "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n1\r\n");
    strcat(body, "--XyZ--\r\n");
    struct ecg_multipart_part *p;
    int32_t n;
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(parse(body, strlen(body), &p, &n, &err), &err, ECG_ERR_RANGE, "more than 8 parts");
    struct ecg_multipart_limits small = {8, 4};
    const char *big = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"big.csv\"\r\n\r\n12345\r\n--XyZ--";
    ECG_CHECK_ERROR(ecg_multipart_parse((const unsigned char *)big, strlen(big), "XyZ", &small, &p, &n, &err),
                    &err, ECG_ERR_RANGE, "part 1 ('big.csv'): 5 bytes, the limit is 4");
}

static void query_parameters_set_rate_include_and_record(void)
{
    struct ecg_serve_params p = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_serve_query_parse("fs=300.5&include=signal%2Cgradcam&record=my+ecg", &p, &err),
                          ECG_OK);
    CU_ASSERT_DOUBLE_EQUAL(p.fs, 300.5, 0);
    CU_ASSERT_EQUAL(p.include, ECG_INCLUDE_SIGNAL | ECG_INCLUDE_GRADCAM);
    CU_ASSERT_STRING_EQUAL(p.record, "my ecg");
    CU_ASSERT_EQUAL(ecg_serve_query_parse("", &p, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_serve_query_parse("include=all", &p, &err), ECG_OK);
    CU_ASSERT_EQUAL(p.include, ECG_INCLUDE_SIGNAL | ECG_INCLUDE_SPECTROGRAM | ECG_INCLUDE_GRADCAM);
}

static void bad_query_parameters_name_the_key_and_value(void)
{
    struct ecg_serve_params p = {0};
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(ecg_serve_query_parse("fs=abc", &p, &err), &err, ECG_ERR_VALUE,
                    "parameter fs: 'abc', expected");
    ECG_CHECK_ERROR(ecg_serve_query_parse("fs=0", &p, &err), &err, ECG_ERR_VALUE, "parameter fs: '0'");
    ECG_CHECK_ERROR(ecg_serve_query_parse("fs=1e9", &p, &err), &err, ECG_ERR_VALUE, "from 1 to 100000");
    ECG_CHECK_ERROR(ecg_serve_query_parse("fs=nan", &p, &err), &err, ECG_ERR_VALUE, "parameter fs: 'nan'");
    ECG_CHECK_ERROR(ecg_serve_query_parse("include=pictures", &p, &err), &err, ECG_ERR_VALUE,
                    "include: 'pictures'");
    ECG_CHECK_ERROR(ecg_serve_query_parse("path=/etc/passwd", &p, &err), &err, ECG_ERR_VALUE,
                    "unknown parameter 'path'");
    ECG_CHECK_ERROR(ecg_serve_query_parse("fs", &p, &err), &err, ECG_ERR_VALUE, "expected key=value");
    ECG_CHECK_ERROR(ecg_serve_query_parse("fs=%3", &p, &err), &err, ECG_ERR_VALUE, "valid %-escapes");
    ECG_CHECK_ERROR(ecg_serve_query_parse("record=a%00b", &p, &err), &err, ECG_ERR_VALUE, "valid %-escapes");
    ECG_CHECK_ERROR(ecg_serve_query_parse("record=a%0Ab", &p, &err), &err, ECG_ERR_VALUE, "printable");
}

static void json_signal_reads_rate_samples_and_name(void)
{
    const char *body = " {\"fs\": 250, \"record\": \"r1\", \"signal\": [0, -1.5, 2e-1, 3E+2,\n 0.25]} ";
    struct ecg_serve_params p = {0};
    float *x;
    int64_t n;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_serve_json_signal(body, strlen(body), 100, &p, &x, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_DOUBLE_EQUAL(p.fs, 250, 0);
    CU_ASSERT_STRING_EQUAL(p.record, "r1");
    const float want[5] = {0, -1.5f, 0.2f, 300, 0.25f};
    ECG_CHECK_CLOSE("json samples", x, want, 5, 0, 0);
    free(x);
    /* The rate may come from the query instead. */
    struct ecg_serve_params q = {.fs = 300};
    CU_ASSERT_EQUAL(ecg_serve_json_signal("{\"signal\":[1]}", 14, 100, &q, &x, &n, &err), ECG_OK);
    free(x);
}

static void malformed_json_bodies_are_named_precisely(void)
{
    static const struct {
        const char *body, *needle;
    } cases[] = {
        {"", "byte 0: expected '{'"},
        {"[1,2]", "byte 0: expected '{' (a JSON object with fs and signal), found '['"},
        {"{\"fs\": 300, \"signal\": [1, NaN]}", "signal[1]: expected a number, found 'N'"},
        {"{\"fs\": 300, \"signal\": [1, Infinity]}", "signal[1]: expected a number"},
        {"{\"fs\": 300, \"signal\": [1e999]}", "signal[0]: 1e999 is out of range"},
        {"{\"fs\": 300, \"signal\": [1e8]}", "out of range"},
        {"{\"fs\": 300, \"signal\": [[[[[[[[[[1]]]]]]]]]]}", "signal[0]: expected a number, found '['"},
        {"{\"fs\": 300, \"signal\": [01]}", "expected ',' or ']'"},
        {"{\"fs\": 300, \"signal\": [1,]}", "signal[1]: expected a number, found ']'"},
        {"{\"fs\": 300, \"signal\": [.5]}", "expected a number"},
        {"{\"fs\": 300, \"signal\": [1]} x", "expected the end of the body"},
        {"{\"fs\": 300, \"signal\": [1], \"fs\": 2}", "key 'fs' appears twice"},
        {"{\"fs\": 300, \"signal\": [1], \"path\": 2}", "unknown key 'path'"},
        {"{\"fs\": 300}", "no key 'signal'"},
        {"{\"signal\": [1]}", "no sampling rate"},
        {"{\"fs\": 0, \"signal\": [1]}", "key 'fs': 0 Hz"},
        {"{\"fs\": 300, \"signal\": []}", "empty array"},
        {"{\"fs\": 300, \"signal\": [1, 2, 3, 4, 5]}", "more than 4 samples"},
        {"{\"fs\": 300, \"signal\": [1",
         "expected ',' or ']' in the signal array, found the end of the body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ecg_serve_params p = {0};
        float *x = (float *)1;
        int64_t n;
        struct ecg_error err = {0};
        int rc = ecg_serve_json_signal(cases[i].body, strlen(cases[i].body), 4, &p, &x, &n, &err);
        CU_ASSERT_NOT_EQUAL(rc, ECG_OK);
        CU_ASSERT_TRUE(ecg_test_error_is(rc, &err, (enum ecg_status)rc, cases[i].needle));
        CU_ASSERT_PTR_NULL(x);
    }
}

static void csv_reads_one_column_with_a_header(void)
{
    const char *text = "ecg_mV\r\n0.1\r\n-0.2\r\n\r\n0.3\r\n";
    double fs = 300;
    float *x;
    int64_t n;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_serve_csv_signal("a.csv", text, strlen(text), 100, &fs, &x, &n, &err), ECG_OK);
    const float want[3] = {0.1f, -0.2f, 0.3f};
    CU_ASSERT_EQUAL_FATAL(n, 3);
    ECG_CHECK_CLOSE("csv column", x, want, 3, 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(fs, 300, 0);
    free(x);
}

static void csv_time_value_pairs_give_the_rate_when_none_is_given(void)
{
    const char *text = "time,value\n0,1\n0.004,2\n0.008;3\n0.012\t4\n";
    double fs = 0;
    float *x;
    int64_t n;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_serve_csv_signal("b.csv", text, strlen(text), 100, &fs, &x, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_DOUBLE_EQUAL(fs, 250, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(x[3], 4, 0);
    free(x);
}

static void malformed_csv_names_the_line(void)
{
    static const struct {
        const char *text, *needle;
        double fs;
    } cases[] = {
        {"1\n2\nabc\n", "c.csv:3: 'abc', expected one number", 300},
        {"1\n2,3\n", "c.csv:2: '2,3', expected one number", 300},
        {"0,1\n1\n", "c.csv:2: '1', expected time,value", 300},
        {"1,2,3\n", "c.csv:1: '1,2,3'", 300},
        {"1\nnan\n", "c.csv:2: 'nan'", 300},
        {"1\n1e9\n", "c.csv:2: sample 1e+09 is out of range", 300},
        {"header\n", "c.csv: no samples", 300},
        {"1\n2\n", "no sampling rate: give fs", 0},
        {"0,1\n0.1,2\n0.3,3\n", "time column steps by 0.1 s at row 2 but 0.15 s on average", 0},
        {"0,1\n0,2\n", "time column gives 0 s per sample", 0},
        {"1\n2\n3\n4\n5\n", "c.csv: more than 4 samples", 300},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double fs = cases[i].fs;
        float *x = (float *)1;
        int64_t n;
        struct ecg_error err = {0};
        int rc = ecg_serve_csv_signal("c.csv", cases[i].text, strlen(cases[i].text), 4, &fs, &x, &n, &err);
        CU_ASSERT_NOT_EQUAL(rc, ECG_OK);
        CU_ASSERT_TRUE(ecg_test_error_is(rc, &err, (enum ecg_status)rc, cases[i].needle));
        CU_ASSERT_PTR_NULL(x);
    }
}

static const struct ecg_test multipart_tests[] = {
    {"the boundary comes from the Content-Type, quoted or not",
     boundary_comes_from_the_content_type_quoted_or_not},
    {"a Content-Type without a usable boundary is named", content_type_without_a_boundary_is_named},
    {"parts keep names, file names, types and binary bytes",
     parts_keep_names_filenames_types_and_binary_bytes},
    {"malformed multipart bodies get one message each", malformed_multipart_bodies_get_one_message_each},
    {"part count and part size limits are enforced", part_count_and_part_size_limits_are_enforced},
    {NULL, NULL},
};
static const struct ecg_test input_tests[] = {
    {"query parameters set the rate, the includes and the record name",
     query_parameters_set_rate_include_and_record},
    {"bad query parameters name the key and the value", bad_query_parameters_name_the_key_and_value},
    {"a JSON signal gives its rate, samples and name", json_signal_reads_rate_samples_and_name},
    {"malformed JSON bodies are named precisely", malformed_json_bodies_are_named_precisely},
    {"CSV reads one column after a header line", csv_reads_one_column_with_a_header},
    {"CSV time,value pairs give the rate when none is given",
     csv_time_value_pairs_give_the_rate_when_none_is_given},
    {"malformed CSV names the line", malformed_csv_names_the_line},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"multipart", multipart_tests},
    {"inputs", input_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
