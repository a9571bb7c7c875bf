using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Reference.Gateway.Load;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Reference.Gateway.Apis;

/// <summary>
/// The admin's view of the backend clusters, for the AppHost's API scaler: each cluster's load (<c>GET /api/gateway/load</c>),
/// and taking one destination out of rotation before its replica is stopped, or back in after it started.
/// </summary>
public static class GatewayLoadApi
{
    public static WebApplication MapGatewayLoadApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/gateway").AddEndpointFilter(RequireAdminKey);
        api.MapGet("/load", GetLoad);
        api.MapPost("/clusters/{cluster}/out", TakeOut);
        api.MapPost("/clusters/{cluster}/in", PutBack);
        return app;
    }

    public static Ok<GatewayLoad> GetLoad(ClusterLoads loads, IProxyStateLookup proxy, TakenOutDestinations takenOut)
    {
        var second = ClusterLoads.CurrentSecond;
        var clusters = proxy.GetClusters().ToDictionary(cluster => cluster.ClusterId, cluster =>
        {
            var load = loads.For(cluster.ClusterId);
            var (requests, p95) = load.Latencies.Read(second);
            return new ClusterLoadView(load.InFlight, requests, p95 is { } ms ? Math.Round(ms, 1) : null, LatencyWindow.Seconds,
                [.. cluster.Destinations.Values.Select(d => View(cluster.ClusterId, d, takenOut))]);
        });
        return TypedResults.Ok(new GatewayLoad(clusters));
    }

    /// <summary>
    /// No new request goes to the destination at <paramref name="change"/>'s address until it is put back (or the gateway
    /// restarts). Answers the requests it still serves: the caller stops the replica once they are done.
    /// </summary>
    public static Results<Ok<DestinationView>, ProblemHttpResult> TakeOut(
        string cluster, DestinationChange change, IProxyStateLookup proxy, TakenOutDestinations takenOut, IClusterDestinationsUpdater destinations) =>
        Change(cluster, change, proxy, takenOut, (state, destination, address) =>
        {
            takenOut.TakeOut(cluster, address);
            destinations.UpdateAvailableDestinations(state);
        });

    /// <summary>
    /// Back in rotation at once: the caller (the scaler) has seen the replica's own health check pass, so the gateway need not
    /// wait up to an active-check interval to find it healthy; the next active check still judges it as any other.
    /// </summary>
    public static Results<Ok<DestinationView>, ProblemHttpResult> PutBack(
        string cluster, DestinationChange change, IProxyStateLookup proxy, TakenOutDestinations takenOut, IDestinationHealthUpdater health,
        IClusterDestinationsUpdater destinations) =>
        Change(cluster, change, proxy, takenOut, (state, destination, address) =>
        {
            takenOut.PutBack(cluster, address);
            health.SetPassive(state, destination, DestinationHealth.Healthy, TimeSpan.Zero);
            health.SetActive(state, [new NewActiveDestinationHealth(destination, DestinationHealth.Healthy)]);
            destinations.UpdateAvailableDestinations(state); // the health setters recompute only when a health changed
        });

    private static Results<Ok<DestinationView>, ProblemHttpResult> Change(
        string cluster, DestinationChange change, IProxyStateLookup proxy, TakenOutDestinations takenOut, Action<ClusterState, DestinationState, Uri> apply)
    {
        if (!Uri.TryCreate(change.Address, UriKind.Absolute, out var address))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad destination change", detail: "Send the destination's absolute address.");
        }

        if (!proxy.TryGetCluster(cluster, out var state))
        {
            return TypedResults.Problem(statusCode: 404, title: "No such cluster", detail: $"The gateway has no cluster {cluster}.");
        }

        var destination = state.Destinations.Values.FirstOrDefault(d => Uri.TryCreate(d.Model.Config.Address, UriKind.Absolute, out var a) && a == address);
        if (destination is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "No such destination", detail: $"Cluster {cluster} has no destination at {change.Address}.");
        }

        apply(state, destination, address);
        return TypedResults.Ok(View(cluster, destination, takenOut));
    }

    private static DestinationView View(string cluster, DestinationState destination, TakenOutDestinations takenOut) =>
        new(destination.Model.Config.Address, destination.ConcurrentRequestCount, destination.Health.Active.ToString(),
            destination.Health.Passive.ToString(), takenOut.IsOut(cluster, destination.Model.Config.Address));

    /// <summary>
    /// The admin key, checked here rather than by an authentication scheme: a scheme registered in the gateway would become
    /// the default one and run on every proxied request.
    /// </summary>
    private static ValueTask<object?> RequireAdminKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = context.HttpContext.Request.Headers[AdminKey.Header].ToString();
        if (presented.Length == 0)
        {
            return ValueTask.FromResult<object?>(TypedResults.Problem(statusCode: 401, title: "Admin key required", detail: $"Send the admin key in the {AdminKey.Header} header."));
        }

        var keys = context.HttpContext.RequestServices.GetRequiredService<IOptions<AdminKeyOptions>>().Value;
        return AdminKey.IsValid(keys, presented)
            ? next(context)
            : ValueTask.FromResult<object?>(TypedResults.Problem(statusCode: 403, title: "Wrong admin key", detail: $"The {AdminKey.Header} header does not hold the admin key."));
    }
}

/// <param name="Address">The destination's address as the gateway has it, e.g. <c>http://localhost:5123</c>.</param>
public sealed record DestinationChange(string? Address);

public sealed record GatewayLoad(IReadOnlyDictionary<string, ClusterLoadView> Clusters);

/// <param name="InFlight">Requests in flight now, event streams excluded.</param>
/// <param name="Requests">Requests finished in the window.</param>
/// <param name="P95Milliseconds">Their p95; null when none finished.</param>
/// <param name="WindowSeconds">The window's length.</param>
/// <param name="Destinations">Each replica, with YARP's own count of its requests (streams included) and health.</param>
public sealed record ClusterLoadView(int InFlight, int Requests, double? P95Milliseconds, int WindowSeconds, IReadOnlyList<DestinationView> Destinations);

/// <param name="TakenOut">Taken out of rotation by the scaler (<c>POST .../out</c>), whatever its health.</param>
public sealed record DestinationView(string Address, int InFlight, string ActiveHealth, string PassiveHealth, bool TakenOut);
