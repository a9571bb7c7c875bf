using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace Reference.Gateway.Security;

/// <summary>
/// <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed only from the proxies in
/// <c>Gateway:TrustedProxies</c>; with none named, from nobody. This wins over
/// <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c> (Aspire sets it on every project), which would trust
/// everyone: ASP.NET Core treats empty known-proxy lists as "any address".
/// </summary>
public static class TrustedProxies
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services)
    {
        services.AddOptions<GatewayOptions>()
            .Validate(o => o.TrustedProxies.All(p => string.IsNullOrWhiteSpace(p) || TryParse(p, out _)),
                "Gateway:TrustedProxies holds an entry that is neither an address (10.0.0.5) nor a network (10.89.0.0/16).")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().PostConfigure<IOptions<GatewayOptions>>((forwarded, gateway) =>
        {
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            forwarded.ForwardedHeaders = ForwardedHeaders.None;
            foreach (var entry in gateway.Value.TrustedProxies)
            {
                if (!string.IsNullOrWhiteSpace(entry) && TryParse(entry, out var network))
                {
                    forwarded.KnownIPNetworks.Add(network);
                }
            }

            if (forwarded.KnownIPNetworks.Count > 0)
            {
                forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            }
        });
        return services;
    }

    /// <summary>
    /// The forwarded headers, then one warning naming the first peer whose <c>X-Forwarded-For</c> was
    /// ignored: the address an operator puts in <c>Gateway:TrustedProxies</c> when it is their proxy.
    /// </summary>
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        app.UseForwardedHeaders();
        var warned = 0;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TrustedProxies));
        app.Use((context, next) =>
        {
            if (Volatile.Read(ref warned) == 0 && context.Request.Headers.ContainsKey("X-Forwarded-For")
                && Interlocked.Exchange(ref warned, 1) == 0)
            {
                logger.LogWarning(
                    "X-Forwarded-For from {Peer} ignored: that address is not in Gateway:TrustedProxies (logged once).",
                    context.Connection.RemoteIpAddress);
            }

            return next(context);
        });
        return app;
    }

    private static bool TryParse(string entry, out IPNetwork network)
    {
        if (IPAddress.TryParse(entry, out var address))
        {
            network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
            return true;
        }

        return IPNetwork.TryParse(entry, out network);
    }
}
