namespace Reference.Gateway.Load;

/// <summary>
/// Request latencies of the last <see cref="Seconds"/> seconds as a histogram per second, so a percentile over the window is
/// a sum of a few hundred counters. Recording takes no lock and allocates nothing: one interlocked increment, and once a
/// second one slot is reclaimed for the new second (a count racing that reset may be lost, which a scaler does not notice).
/// Written by hand: OpenTelemetry's histograms are for export and keep no recent window the gateway can read a p95 from.
/// </summary>
public sealed class LatencyWindow
{
    public const int Seconds = 10;

    /// <summary>Upper bounds of the buckets in milliseconds; the last bucket takes everything slower.</summary>
    private static readonly double[] Bounds =
        [1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50, 70, 100, 150, 200, 250, 300, 400, 500, 700, 1000, 1500, 2000, 3000, 5000, 10000, 30000];

    private static readonly int Buckets = Bounds.Length + 1;
    private readonly long[] _secondOfSlot = new long[Seconds];
    private readonly int[] _counts = new int[Seconds * Buckets];

    /// <param name="second">The current second (any monotonic count of seconds).</param>
    /// <param name="milliseconds">The request's latency.</param>
    public void Record(long second, double milliseconds)
    {
        var slot = (int)(second % Seconds);
        var seen = Volatile.Read(ref _secondOfSlot[slot]);
        if (seen != second && Interlocked.CompareExchange(ref _secondOfSlot[slot], second, seen) == seen)
        {
            Array.Clear(_counts, slot * Buckets, Buckets);
        }

        var bucket = Array.BinarySearch(Bounds, milliseconds);
        Interlocked.Increment(ref _counts[(slot * Buckets) + (bucket >= 0 ? bucket : ~bucket)]);
    }

    /// <summary>The requests of the window ending at <paramref name="second"/>, and their p95 (null when none), interpolated within its bucket.</summary>
    /// <param name="second">The current second, on <see cref="Record"/>'s clock.</param>
    public (int Requests, double? P95Milliseconds) Read(long second)
    {
        Span<int> totals = stackalloc int[Buckets];
        for (var slot = 0; slot < Seconds; slot++)
        {
            if (second - Volatile.Read(ref _secondOfSlot[slot]) is >= 0 and < Seconds)
            {
                for (var bucket = 0; bucket < Buckets; bucket++)
                {
                    totals[bucket] += Volatile.Read(ref _counts[(slot * Buckets) + bucket]);
                }
            }
        }

        var requests = 0;
        foreach (var count in totals)
        {
            requests += count;
        }

        if (requests == 0)
        {
            return (0, null);
        }

        var rank = 0.95 * requests;
        var below = 0;
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            if (below + totals[bucket] >= rank)
            {
                var lower = bucket == 0 ? 0 : Bounds[bucket - 1];
                var upper = bucket < Bounds.Length ? Bounds[bucket] : lower;
                return (requests, lower + ((upper - lower) * (rank - below) / totals[bucket]));
            }

            below += totals[bucket];
        }

        return (requests, Bounds[^1]);
    }
}
