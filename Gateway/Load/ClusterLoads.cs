using System.Collections.Concurrent;
using System.Diagnostics;

namespace Reference.Gateway.Load;

/// <summary>One cluster's load as the gateway sees it: requests in flight now and the recent latencies.</summary>
public sealed class ClusterLoad
{
    private int _inFlight;

    public LatencyWindow Latencies { get; } = new();

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Began() => Interlocked.Increment(ref _inFlight);

    public void Ended(long second, double milliseconds)
    {
        Interlocked.Decrement(ref _inFlight);
        Latencies.Record(second, milliseconds);
    }
}

/// <summary>
/// The load of every backend cluster (<c>inventoryapi</c>, <c>uploadapi</c>), measured by <see cref="ClusterLoadMeasurement"/>
/// and read by the AppHost's API scaler through <c>GET /api/gateway/load</c>.
/// </summary>
public sealed class ClusterLoads
{
    private readonly ConcurrentDictionary<string, ClusterLoad> _clusters = new(StringComparer.Ordinal);

    /// <summary>Seconds on the monotonic clock: the latency windows' time.</summary>
    public static long CurrentSecond => Stopwatch.GetTimestamp() / Stopwatch.Frequency;

    public ClusterLoad For(string clusterId) => _clusters.GetOrAdd(clusterId, static _ => new ClusterLoad());
}
