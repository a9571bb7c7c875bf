using System.Diagnostics;

namespace Reference.Gateway.Load;

/// <summary>
/// Counts each proxied request in flight and records its latency for its cluster (<see cref="ClusterLoads"/>): the input of
/// the API scaler. Event streams (routes with the metadata <c>EventStream: true</c>) are left out: their length is the
/// client's, not the load's.
/// </summary>
public sealed class ClusterLoadMeasurement(RequestDelegate next, ClusterLoads loads)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route;
        if (route.Cluster is not { } cluster || route.Config.Metadata?.GetValueOrDefault("EventStream") == "true")
        {
            await next(context);
            return;
        }

        var load = loads.For(cluster.ClusterId);
        var started = Stopwatch.GetTimestamp();
        load.Began();
        try
        {
            await next(context);
        }
        finally
        {
            load.Ended(ClusterLoads.CurrentSecond, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
