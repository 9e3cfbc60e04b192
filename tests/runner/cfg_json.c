/* cfg_json.c - print the copy of a config that bench writes into meta.json ("config"), without
 * running anything: tests/runner-plans.t compares it with the stored expected copy.
 *
 *   cfg-json CONFIG [BINDIR]     the JSON on stdout; exit 2 with the message on a bad config */
#include "../../runner/cfg.h"
#include "../../runner/util.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    char err[UT_ERRLEN];
    struct cfg c;
    struct ut_str o = {0};
    if (argc < 2 || argc > 3) {
        fputs("usage: cfg-json CONFIG [BINDIR]\n", stderr);
        return 2;
    }
    if (cfg_load(argv[1], argc > 2 ? argv[2] : "bin", &c, err, sizeof err) < 0) {
        fprintf(stderr, "cfg-json: %s\n", err);
        cfg_free(&c);
        return 2;
    }
    cfg_to_json(&c, &o);
    printf("%s\n", o.s);
    ut_str_free(&o);
    cfg_free(&c);
    return 0;
}
