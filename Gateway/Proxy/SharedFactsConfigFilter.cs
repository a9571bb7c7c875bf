using Reference.Contracts;
using Yarp.ReverseProxy.Configuration;

namespace Reference.Gateway.Proxy;

/// <summary>
/// Fills in the proxy settings the backends decide: the upload route's body limit (UploadApi's file
/// limit plus the form around it) and the path of their health endpoint. Explicit config wins.
/// </summary>
public sealed class SharedFactsConfigFilter(IConfiguration configuration) : IProxyConfigFilter
{
    public const string UploadRouteId = "upload-create";

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(route.RouteId == UploadRouteId && route.MaxRequestBodySize is null
            ? route with { MaxRequestBodySize = ImageLimits.UploadBodyBytes(configuration.GetValue(ImageLimits.MaxBytesSetting, ImageLimits.MaxBytes)) }
            : route);

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) =>
        ValueTask.FromResult(cluster.HealthCheck?.Active is { Path: null or "" } active
            ? cluster with { HealthCheck = cluster.HealthCheck with { Active = active with { Path = HealthEndpoints.HealthPath } } }
            : cluster);
}
