/* HlogInterop.java - the Java HdrHistogram library (Debian's libhdrhistogram-java) against our
 * interval logs, for tests/loadgen-hlog-java.t:
 *
 *   read FILE    HistogramLogReader reads FILE; per tag (in order of appearance) one line
 *                "tag=T count=N p50=V p99=V p99.9=V max=V p99round=V": the sum of the tag's
 *                intervals, percentiles as the library computes them, p99round the value at the
 *                rank bin/loadgen's JSON uses, round(99% of N)
 *   write FILE   HistogramLogWriter writes FILE: three intervals of three tags (an auto-resizing
 *                histogram, one with lowest 1000 and 2 digits, one untagged with counts past 2^56),
 *                then the same summary lines of what it wrote
 *
 * Commands run in order: "write J.hlog read A.hlog" does both. (The library's HistogramLogProcessor
 * is not used: 2.1.11's throws a NullPointerException.) */
import java.io.File;
import java.io.FileNotFoundException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;

public class HlogInterop {
    private static void add(Map<String, Histogram> sums, String tag, Histogram h) {
        Histogram sum = sums.get(tag);
        if (sum == null) {
            sum = h.copy();
            sum.setAutoResize(true);
            sums.put(tag, sum);
        } else {
            sum.add(h);
        }
    }

    /* The value at rank round(p% of n), at least 1: the loadgen's own percentile. */
    private static long atRoundedRank(Histogram h, double p) {
        long want = Math.max(1, (long) (p / 100 * h.getTotalCount() + 0.5)), seen = 0;
        for (HistogramIterationValue v : h.recordedValues()) {
            seen += v.getCountAtValueIteratedTo();
            if (seen >= want)
                return h.highestEquivalentValue(v.getValueIteratedTo());
        }
        return h.getMaxValue();
    }

    private static void summary(Map<String, Histogram> sums, boolean rounded) {
        for (Map.Entry<String, Histogram> e : sums.entrySet()) {
            Histogram h = e.getValue();
            System.out.print("tag=" + e.getKey() + " count=" + h.getTotalCount() + " p50=" + h.getValueAtPercentile(50)
                    + " p99=" + h.getValueAtPercentile(99) + " p99.9=" + h.getValueAtPercentile(99.9)
                    + " max=" + h.getMaxValue());
            System.out.println(rounded ? " p99round=" + atRoundedRank(h, 99) : "");
        }
    }

    private static void read(String path) throws FileNotFoundException {
        Map<String, Histogram> sums = new LinkedHashMap<>();
        HistogramLogReader reader = new HistogramLogReader(path);
        EncodableHistogram e;
        while ((e = reader.nextIntervalHistogram()) != null) {
            Histogram h = (Histogram) e;
            add(sums, h.getTag() == null ? "" : h.getTag(), h);
        }
        reader.close();
        summary(sums, true);
    }

    private static void write(String path) throws FileNotFoundException {
        Map<String, Histogram> sums = new LinkedHashMap<>();
        HistogramLogWriter w = new HistogramLogWriter(new File(path));
        long start = 1764659215123L;
        w.outputComment("[written by tests/loadgen/HlogInterop.java]");
        w.outputLogFormatVersion();
        w.outputStartTime(start);
        w.outputLegend();            /* no BaseTime: the timestamps below are absolute */
        long x = 88172645463325252L;
        for (int i = 0; i < 3; i++) {
            Histogram a = new Histogram(3), b = new Histogram(1000, 3600_000_000_000L, 2);
            Histogram c = new Histogram(1, 100_000_000_000L, 3);
            for (int j = 0; j < 20000 * (i + 1); j++) {
                x ^= x << 13; x ^= x >>> 7; x ^= x << 17;
                double u = (double) (x >>> 11) / (1L << 53);
                a.recordValue((long) Math.exp(Math.log(100) + u * Math.log(1e6 * (i + 1))));
                b.recordValue(1000 + (long) (u * 1e9));
            }
            c.recordValueWithCount(12345, (1L << 57) + i);
            c.recordValue(99_000_000_000L);
            a.setTag("auto");
            b.setTag("coarse");
            for (Histogram h : new Histogram[] {a, b, c}) {
                h.setStartTimeStamp(start + 1000L * i);
                h.setEndTimeStamp(start + 1000L * (i + 1));
                w.outputIntervalHistogram(h);
                add(sums, h.getTag() == null ? "" : h.getTag(), h);
            }
        }
        w.close();
        summary(sums, false);
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("read"))
                read(args[i + 1]);
            else if (args[i].equals("write"))
                write(args[i + 1]);
            else
                throw new IllegalArgumentException("unknown command " + args[i]);
        }
    }
}
