using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;

namespace Reference.Gateway.Limits;

/// <summary>
/// Request timeout policies named by the routes' <c>TimeoutPolicy</c>. The 504 body for proxied
/// requests is written by <see cref="Proxy.ProxyErrorResponses"/>, since YARP swallows the cancellation.
/// </summary>
public static class GatewayRequestTimeouts
{
    public const string ApiPolicy = "api";
    public const string UploadsPolicy = "uploads";

    public static IServiceCollection AddGatewayRequestTimeouts(this IServiceCollection services)
    {
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<GatewayOptions>>((timeouts, gateway) =>
        {
            timeouts.AddPolicy(ApiPolicy, gateway.Value.ApiTimeout);
            timeouts.AddPolicy(UploadsPolicy, gateway.Value.UploadTimeout);
        });
        return services;
    }
}
