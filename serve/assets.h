/* Files embedded in the binary at build time (serve/page.html, serve/openapi.json). */
#ifndef ECG_SERVE_ASSETS_H
#define ECG_SERVE_ASSETS_H

#include <stddef.h>

extern const char ecg_asset_page[]; /* the upload page: HTML with its CSS and JavaScript inline */
extern const size_t ecg_asset_page_size;
extern const char ecg_asset_openapi[]; /* the OpenAPI 3 document of the API */
extern const size_t ecg_asset_openapi_size;

#endif
