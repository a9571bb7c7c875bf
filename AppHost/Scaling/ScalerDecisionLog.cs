using System.Text.Json;
using Microsoft.Extensions.Logging;
using Reference.Contracts;
using Reference.Scaling;
using StackExchange.Redis;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The scaler's decisions where the operations console reads them (<c>GET /api/ops/scaler</c>): every round's as the
/// current one, expiring when no scaler runs, and each change of the pool in a capped list that outlives the run for a day.
/// </summary>
public sealed class ScalerDecisionLog(ScalerRedis redis, ILogger<ScalerDecisionLog> logger)
{
    public async Task WriteAsync(ScalingDecision decision, IReadOnlyCollection<string> leaving, ScalingLimits limits, CancellationToken cancellationToken)
    {
        var queue = decision.Inputs.Queue;
        var entry = JsonSerializer.Serialize(new ScalerDecision(
            decision.Inputs.Now, decision.From, decision.To, decision.Reason, queue?.Ready, queue?.Unacked,
            queue?.OldestWaiting is { } age ? Math.Round(age.TotalSeconds, 1) : null, [.. leaving], limits.MinWorkers, limits.MaxWorkers),
            JsonSerializerOptions.Web);
        try
        {
            var database = await redis.DatabaseAsync(cancellationToken);
            var writes = new List<Task> { database.StringSetAsync(WorkerControl.ScalerCurrentKey, entry, WorkerControl.ScalerCurrentKeptFor) };
            if (decision.IsChange)
            {
                writes.Add(database.ListLeftPushAsync(WorkerControl.ScalerDecisionsKey, entry));
                writes.Add(database.ListTrimAsync(WorkerControl.ScalerDecisionsKey, 0, WorkerControl.ScalerDecisionsKept - 1));
                writes.Add(database.KeyExpireAsync(WorkerControl.ScalerDecisionsKey, WorkerControl.ScalerDecisionsKeptFor));
            }

            await Task.WhenAll(writes);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            // The log and the metrics still have it; the console shows the scaler silent.
            logger.LogDebug("Could not write the scaler's decision to Redis: {Error}", e.Message);
        }
    }
}
