using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Reference.InventoryApi.Caching;

/// <summary>Redis down means slower reads from MySQL, not an outage: Degraded, never Unhealthy.</summary>
internal sealed class RedisCacheHealthCheck(ProductCache cache) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await cache.PingAsync();
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0.0} ms.");
        }
        catch (Exception e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis is unreachable; product reads go to MySQL.", e);
        }
    }
}
