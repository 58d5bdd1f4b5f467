/*
 * tr_format.c -- see tr_format.h.
 */
#include "tr_format.h"


const char *tr_fmt_ms(char buf[32], double ns)
{
    snprintf(buf, 32, "%.3f ms", ns / 1e6);
    return buf;
}

const char *tr_fmt_bytes(char buf[32], uint64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, 32, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes / 1024;
    int u = 0;
    while (v >= 1024 && u < 5)
        v /= 1024, u++;
    snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

const char *tr_fmt_window(char buf[32], double ns)
{
    if (ns < 1e6)
        snprintf(buf, 32, "%g us", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, 32, "%g ms", ns / 1e6);
    else
        snprintf(buf, 32, "%g s", ns / 1e9);
    return buf;
}

size_t tr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

void tr_put_json_string(FILE *f, const char *s, size_t len, bool for_html)
{
    const unsigned char *p = (const unsigned char *)s;
    putc('"', f);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tr_utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\')
            fprintf(f, "\\%c", (char)cp);
        else if (cp == '\n')
            fputs("\\n", f);
        else if (cp == '\t')
            fputs("\\t", f);
        else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029 ||
                 (for_html && (cp == '<' || cp == '>' || cp == '&')))
            fprintf(f, "\\u%04x", (unsigned)cp);
        else
            fwrite(p + i, 1, n, f);
        i += n;
    }
    putc('"', f);
}

void tr_put_html(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tr_utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            fputs("&#xfffd;", f);
            i++;
            continue;
        }
        switch (cp) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (cp < 0x20 || cp == 0x7f)
                fputs("&#xfffd;", f);
            else
                fwrite(p + i, 1, n, f);
        }
        i += n;
    }
}

void tr_put_plain(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tr_utf8_decode(p + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
            putc('?', f);
            i += n ? n : 1;
            continue;
        }
        fwrite(p + i, 1, n, f);
        i += n;
    }
}
