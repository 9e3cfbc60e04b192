/* progress.c - progress bar and ETA; log lines clear it and redraw it (see ut_log_set_bar). */
#include "progress.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static struct {
    int total, done, tty, shown;
    char label[160];
    double row_start, row_s, left_s, last_draw;
} pg;

static void clear(void)
{
    if (pg.tty && pg.shown)
        fputs("\r\033[K", stderr);
}

static void draw(void)
{
    if (!pg.tty || !pg.total || !pg.label[0])
        return;
    double now = ut_now(), in_row = now - pg.row_start;
    /* The ETA counts down within a run rather than jumping once per run. */
    double left = pg.left_s - (in_row < pg.row_s ? in_row : pg.row_s);
    char bar[24], el[32], eta[32];
    int width = (int)sizeof bar - 1, fill = pg.done * width / pg.total;
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[K[%s] %d/%d %s  %s  ETA %s", bar, pg.done + 1, pg.total, pg.label,
            ut_fmt_dur(in_row, el, sizeof el), ut_fmt_dur(left, eta, sizeof eta));
    fflush(stderr);
    pg.shown = 1;
    pg.last_draw = now;
}

void prog_more(int more)
{
    pg.total += more;
}

void prog_init(int total, int tty)
{
    memset(&pg, 0, sizeof pg);
    pg.total = total;
    pg.tty = tty;
    ut_log_set_bar(clear, draw);
}

void prog_row(int done, const char *label, double row_s, double left_s)
{
    pg.done = done;
    snprintf(pg.label, sizeof pg.label, "%s", label);
    pg.row_start = ut_now();
    pg.row_s = row_s;
    pg.left_s = left_s;
    if (pg.tty) {
        draw();
    } else {
        char eta[32];
        fprintf(stderr, "bench: [%d/%d] %s  ETA %s\n", done + 1, pg.total, label, ut_fmt_dur(left_s, eta, sizeof eta));
    }
}

void prog_tick(void)
{
    if (pg.tty && ut_now() - pg.last_draw >= 0.5)
        draw();
}

void prog_end(void)
{
    clear();
    pg.shown = 0;
    pg.label[0] = '\0';
    ut_log_set_bar(NULL, NULL);
}
