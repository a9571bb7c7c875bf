using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Reference.Contracts;

namespace Reference.Gateway.Limits;

/// <summary>
/// Rate limits named by the routes' <c>RateLimiterPolicy</c>, per client: the TCP peer's address
/// (or what a trusted proxy says it is, see <see cref="Security.TrustedProxies"/>), an IPv6 client
/// by its /64; a request with a valid admin key by the key, with a budget of its own. Over all of
/// them, one cap on requests in flight protects the backends whatever the addresses.
/// </summary>
public static class GatewayRateLimiting
{
    public const string ApiPolicy = "api";
    public const string UploadsPolicy = "uploads";
    public const string EventsPolicy = "events";

    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services)
    {
        services.AddAdminKeyOptions();
        services.AddOptions<RateLimitOptions>().BindConfiguration(GatewayOptions.SectionName)
            .Validate(o => o.IsComplete, "Gateway: every rate limit needs its numbers (appsettings.json sets them).")
            .ValidateOnStart();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(ApiPolicy, context => PerClient(context, o => o.ApiRateLimit, o => o.AdminApiRateLimit));
            options.AddPolicy(UploadsPolicy, context => PerClient(context, o => o.UploadRateLimit, o => o.AdminUploadRateLimit));
            options.AddPolicy(EventsPolicy, StreamsPerClient);
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(InFlight);
            options.OnRejected = WriteRejection;
        });
        return services;
    }

    /// <summary>The bucket of an address: IPv4 as it is, IPv6 by its /64 (one host usually owns a whole /64).</summary>
    public static string ClientBucket(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private static RateLimitPartition<string> PerClient(
        HttpContext context, Func<RateLimitOptions, RateLimitOptions.RateLimit> anonymous, Func<RateLimitOptions, RateLimitOptions.RateLimit> admin)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        var presented = context.Request.Headers[AdminKey.Header].ToString();
        // A wrong key counts against the sender's address like any anonymous request.
        var (client, limit) = presented.Length > 0
                              && AdminKey.IsValid(context.RequestServices.GetRequiredService<IOptions<AdminKeyOptions>>().Value, presented)
            ? ("admin:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(presented)))[..16], admin(options))
            : (ClientBucket(context.Connection.RemoteIpAddress), anonymous(options));
        return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            QueueLimit = 0,
        });
    }

    /// <summary>Status streams stay open for minutes: a client may hold only a few at once.</summary>
    private static RateLimitPartition<string> StreamsPerClient(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        return RateLimitPartition.GetConcurrencyLimiter(ClientBucket(context.Connection.RemoteIpAddress), _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = options.EventStreamsPerClient,
            QueueLimit = 0,
        });
    }

    private static RateLimitPartition<string> InFlight(HttpContext context)
    {
        // Probes must answer while the gateway is busy, or it would be restarted for being busy.
        if (context.Request.Path.StartsWithSegments(HealthEndpoints.HealthPath) || context.Request.Path.StartsWithSegments(HealthEndpoints.AlivePath))
        {
            return RateLimitPartition.GetNoLimiter("probes");
        }

        var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        return RateLimitPartition.GetConcurrencyLimiter("in-flight", _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = options.MaxConcurrentRequests,
            QueueLimit = options.ConcurrentRequestQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    private static async ValueTask WriteRejection(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var http = rejected.HttpContext;
        // Only the per-client windows know when a permit comes back; the concurrency caps do not.
        var window = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait);
        var perClient = window || http.GetEndpoint()?.Metadata.GetMetadata<Yarp.ReverseProxy.Model.RouteModel>()?.Config.RateLimiterPolicy == EventsPolicy;
        var seconds = window ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 5;
        var status = perClient ? StatusCodes.Status429TooManyRequests : StatusCodes.Status503ServiceUnavailable;
        http.Response.StatusCode = status;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = status,
                Title = perClient ? "Too many requests" : "The shop is busy",
                Detail = $"Retry after {seconds} s.",
            },
        });
    }
}
