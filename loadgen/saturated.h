/* saturated.h - when a CPU counts as saturated: at 90 % of a core, or of a CPU set. The load
 * generator's own verdict, the runner's verdict on a server and on agents sharing a machine use
 * this one threshold, so a row never reads "saturated" by one measure and not by another. */
#ifndef SATURATED_H
#define SATURATED_H

#define CPU_SATURATED 0.90

#endif
