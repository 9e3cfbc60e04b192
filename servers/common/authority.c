/* authority.c: the protocol engine's check of a Host value or an absolute-form authority.
 *
 *     Host = uri-host [ ":" port ]                              (RFC 9110 7.2)
 *     uri-host = IP-literal / IPv4address / reg-name            (RFC 3986 3.2.2)
 *     reg-name = *( unreserved / pct-encoded / sub-delims )
 *
 * An IPv4 address is also a reg-name, so it needs no rule of its own. There is no userinfo (no "@"),
 * no path, no whitespace, and the host is never empty (every URI we serve is http, RFC 9110 4.2.1:
 * the caller decides where an empty Host is acceptable). Two departures, both refusals: a comma,
 * which RFC 3986 allows in a reg-name, but no DNS name has, and which is what two Host lines look
 * like once a proxy has joined them into a list -- the "more than one Host" RFC 9112 3.2 requires a
 * 400 for; and a port above 65535, which no TCP port is. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "proto_int.h"

/* unreserved / sub-delims, without the comma */
static int is_name_char(unsigned char ch)
{
    static const char extra[] = "-._~!$&'()*+;=";
    if ((ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
        return 1;
    return ch != 0 && memchr(extra, ch, sizeof extra - 1) != NULL;
}

/* IP-literal's inside, between the brackets: IPv6address / IPvFuture. */
static int ip_literal_valid(const char *p, size_t n)
{
    if (n > 0 && (p[0] | 0x20) == 'v') { /* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
        size_t i = 1;
        while (i < n && proto_hexval((unsigned char)p[i]) >= 0)
            i++;
        if (i == 1 || i + 1 >= n || p[i] != '.')
            return 0;
        for (i++; i < n; i++)
            if (!is_name_char((unsigned char)p[i]) && p[i] != ':')
                return 0;
        return 1;
    }
    char buf[INET6_ADDRSTRLEN];
    struct in6_addr a;
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1; /* no zone identifier: RFC 9110 has none */
}

int proto_authority_valid(const char *p, size_t n)
{
    size_t i = 0;

    if (n > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (close == NULL || !ip_literal_valid(p + 1, (size_t)(close - p) - 1))
            return 0;
        i = (size_t)(close - p) + 1;
    } else {
        while (i < n && p[i] != ':') {
            if (p[i] == '%') { /* pct-encoded */
                if (i + 2 >= n || proto_hexval((unsigned char)p[i + 1]) < 0 ||
                    proto_hexval((unsigned char)p[i + 2]) < 0)
                    return 0;
                i += 3;
            } else if (is_name_char((unsigned char)p[i])) {
                i++;
            } else {
                return 0;
            }
        }
        if (i == 0)
            return 0; /* empty host */
    }
    if (i == n)
        return 1;
    if (p[i] != ':')
        return 0;
    unsigned port = 0; /* port = *DIGIT: may be empty (RFC 3986 3.2.3) */
    for (i++; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        port = port * 10 + (unsigned)(p[i] - '0');
        if (port > 65535)
            return 0;
    }
    return 1;
}
