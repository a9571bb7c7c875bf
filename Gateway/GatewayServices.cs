using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Reference.Gateway;
using Reference.Gateway.Limits;
using Reference.Gateway.Load;
using Reference.Gateway.Proxy;
using Reference.Gateway.Security;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Transforms;

namespace Microsoft.Extensions.Hosting;

/// <summary>The gateway's services and its request pipeline: limits, compression, the proxy.</summary>
public static class GatewayServices
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails();
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName);
        builder.AddImageStore();

        // Read through options (not builder.Configuration) so tests and reloads see the final values.
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<GatewayOptions>>((kestrel, gateway) =>
        {
            var limits = gateway.Value;
            kestrel.AddServerHeader = false;
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod);
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize;
        });

        services.AddTrustedProxies();
        services.AddSingleton<ClusterLoads>();
        services.AddSingleton<TakenOutDestinations>();
        services.AddSingleton<IAvailableDestinationsPolicy, HealthyAndNotTakenOutPolicy>();
        services.AddGatewayRateLimiting();
        services.AddGatewayRequestTimeouts();

        services.AddResponseCompression(options =>
        {
            // Responses never echo secrets (the admin key travels only in request headers), so
            // BREACH-style attacks have nothing to extract over HTTPS.
            options.EnableForHttps = true;
            options.Providers.Add<BrotliCompressionProvider>();
            options.Providers.Add<GzipCompressionProvider>();
            // Defaults cover text, JSON, JS and CSS; images are already compressed and
            // text/event-stream must reach the browser event by event.
            options.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(["application/problem+json", "image/svg+xml"]);
        });
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);

        // Passive health remembers failures for this window; YARP's 60 s default would keep a
        // replica that came back flapping out of rotation for a minute.
        services.AddOptions<TransportFailureRateHealthPolicyOptions>().BindConfiguration("Gateway:TransportFailureRate");

        services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .AddConfigFilter<SharedFactsConfigFilter>()
            .AddTransforms(context =>
            {
                // Every route, whatever its config says: the client's own X-Forwarded-* and
                // Forwarded headers are dropped and replaced by what this connection shows.
                context.AddXForwarded(ForwardedTransformActions.Set);
                context.AddRequestHeaderRemove("Forwarded");
            });

        return builder;
    }

    /// <summary>Cross-cutting front-door middleware, in the order a request meets it.</summary>
    public static WebApplication UseFrontDoor(this WebApplication app)
    {
        // First: the rate limits and HSTS read the client address and scheme it may correct.
        app.UseTrustedProxies();
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseResponseCompression();
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        return app;
    }

    /// <summary>
    /// <c>/api/inventory/**</c> and <c>/api/uploads/**</c> to the backend replicas, as configured in
    /// <c>ReverseProxy</c>. The backends' own <c>/health</c> and <c>/alive</c> match no route.
    /// </summary>
    public static WebApplication MapBackendProxy(this WebApplication app)
    {
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ClusterLoadMeasurement>();
            proxy.UseMiddleware<ProxyErrorResponses>();
            proxy.UseMiddleware<DeclaredBodySizeCheck>();
            proxy.UseMiddleware<SafeRequestRetry>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
