using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Pings Redis; registered Degraded by <see cref="DegradableRedis.AddRedisHealthCheck"/>.</summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis, string whenUnreachable) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0.0} ms.");
        }
        catch (Exception e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Redis is unreachable; {whenUnreachable}.", e);
        }
    }
}
