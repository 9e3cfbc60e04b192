/* progress.h - the progress line on stderr: a bar, the current run and the time left. On a
 * terminal it redraws in place; otherwise it prints one line per run. */
#ifndef RUNNER_PROGRESS_H
#define RUNNER_PROGRESS_H

void prog_init(int total, int tty);
/* more runs than planned (another round of repeats: auto). */
void prog_more(int more);
/* A run starts: done runs so far, what it is, how long it should take, how long all that is
 * left should take (this run included). */
void prog_row(int done, const char *label, double row_s, double left_s);
/* Redraw (the elapsed time moves); cheap, call it from the wait loop. */
void prog_tick(void);
/* Erase the bar for good (end of the run or interrupted). */
void prog_end(void);

#endif
