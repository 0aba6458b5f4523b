#ifndef HEROLD_CCURL_SHIM_H
#define HEROLD_CCURL_SHIM_H

/* Swift cannot call C variadic functions, so each curl_easy_setopt /
   curl_easy_getinfo / curl_multi_setopt use gets one typed wrapper here.
   Nothing else belongs in this file. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

static inline CURLcode herold_easy_setopt_long(CURL *h, CURLoption o, long v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode herold_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode herold_easy_setopt_string(CURL *h, CURLoption o, const char *v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode herold_easy_setopt_pointer(CURL *h, CURLoption o, void *v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode herold_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
  return curl_easy_setopt(h, o, v);
}
/* WRITEFUNCTION, READFUNCTION and HEADERFUNCTION share this prototype. */
static inline CURLcode herold_easy_setopt_io_callback(CURL *h, CURLoption o, curl_write_callback v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode herold_easy_setopt_debug_callback(CURL *h, curl_debug_callback v) {
  return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, v);
}
static inline CURLcode herold_easy_setopt_prereq_callback(CURL *h, curl_prereq_callback v) {
  return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, v);
}

static inline CURLcode herold_easy_getinfo_long(CURL *h, CURLINFO i, long *v) {
  return curl_easy_getinfo(h, i, v);
}
static inline CURLcode herold_easy_getinfo_string(CURL *h, CURLINFO i, char **v) {
  return curl_easy_getinfo(h, i, v);
}

static inline CURLMcode herold_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
  return curl_multi_setopt(m, o, v);
}

#endif
