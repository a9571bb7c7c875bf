using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Redis for a service that goes on without it: every call fails within a second instead of
/// queueing, each caller catches <see cref="RedisFailure.Is"/> and takes its own way round
/// (MySQL, the keep-alive, no attempt count), and <c>/health</c> says Degraded, never Unhealthy.
/// </summary>
public static class DegradableRedis
{
    public static IHostApplicationBuilder AddDegradableRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        // Aspire's own check would make Redis down Unhealthy; services that report it add RedisHealthCheck instead.
        builder.AddRedisClient(connectionName, settings => settings.DisableHealthChecks = true, redis =>
        {
            redis.AbortOnConnectFail = false;
            redis.BacklogPolicy = BacklogPolicy.FailFast;
            redis.ConnectTimeout = 2000;
            redis.SyncTimeout = 1000;
            redis.AsyncTimeout = 1000;
            redis.ReconnectRetryPolicy = new LinearRetry(1000);
        });
        return builder;
    }

    /// <param name="whenUnreachable">What the service does instead, for whoever reads <c>/health</c>.</param>
    public static IHealthChecksBuilder AddRedisHealthCheck(this IHealthChecksBuilder checks, string name, string whenUnreachable) =>
        checks.AddTypeActivatedCheck<RedisHealthCheck>(name, HealthStatus.Degraded, ["ready"], TimeSpan.FromSeconds(1), whenUnreachable);
}
