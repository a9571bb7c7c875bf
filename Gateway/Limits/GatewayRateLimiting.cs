using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Reference.Gateway.Limits;

/// <summary>
/// Per-client-address rate limits, named by the routes' <c>RateLimiterPolicy</c>. The address is
/// the TCP peer's: a client cannot pick its own bucket by sending X-Forwarded-For.
/// </summary>
public static class GatewayRateLimiting
{
    public const string ApiPolicy = "api";
    public const string UploadsPolicy = "uploads";

    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(ApiPolicy, context => PerClientAddress(context, o => o.ApiRateLimit));
            options.AddPolicy(UploadsPolicy, context => PerClientAddress(context, o => o.UploadRateLimit));
            options.OnRejected = WriteTooManyRequests;
        });
        return services;
    }

    private static RateLimitPartition<string> PerClientAddress(HttpContext context, Func<GatewayOptions, GatewayOptions.RateLimit> pick)
    {
        var limit = pick(context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value);
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            QueueLimit = 0,
        });
    }

    private static async ValueTask WriteTooManyRequests(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var http = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"Retry after {seconds} s.",
            },
        });
    }
}
