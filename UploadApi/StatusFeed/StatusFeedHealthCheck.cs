using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Reference.UploadApi.StatusFeed;

/// <summary>Redis down or stalled means event streams wake on their keep-alive instead: Degraded, never Unhealthy.</summary>
internal sealed class StatusFeedHealthCheck(UploadStatusFeed feed) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await feed.PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0.0} ms.");
        }
        catch (Exception e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis is unreachable; status events arrive on the keep-alive.", e);
        }
    }
}
