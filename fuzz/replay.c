/* replay.c: runs fuzz_proto.c's LLVMFuzzerTestOneInput over files without libFuzzer, as TAP: every
 * file named, and every file in every directory named. `make test` replays the seed corpus this way
 * with the ordinary compiler (and its sanitizers under SAN=...), so the harness and its invariants
 * are checked on every build, not only when someone runs `make fuzz`. A violated invariant aborts. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int count;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 20];
    size_t n;
    if (!f) {
        printf("not ok %d - %s: cannot open\n", ++count, path);
        return;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* a copy of exactly n bytes, so that a read past the input is caught by ASan */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, buf, n);
    fflush(stdout);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    printf("ok %d - %s\n", ++count, path);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **names;
            int k = scandir(argv[i], &names, NULL, by_name);
            for (int j = 0; j < k; j++) {
                char path[4096];
                if (names[j]->d_name[0] != '.') {
                    snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
                    run_file(path);
                }
                free(names[j]);
            }
            free(k >= 0 ? names : NULL);
        } else {
            run_file(argv[i]);
        }
    }
    if (count == 0) {
        printf("not ok 1 - no input files\n1..1\n");
        return 1;
    }
    printf("1..%d\n", count);
    return 0;
}
