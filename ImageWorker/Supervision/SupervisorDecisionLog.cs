using System.Text.Json;
using Reference.Contracts;
using Reference.Scaling;
using StackExchange.Redis;

namespace Reference.ImageWorker.Supervision;

/// <summary>
/// The supervisor's decisions where the operations console reads the AppHost scaler's (its <c>ScalerDecisionLog</c>):
/// the same keys and <see cref="ScalerDecision"/> JSON from <see cref="WorkerControl"/>, so the console needs no second
/// reader; the imageworker's Redis user may write <c>ops:*</c>. Redis down: the log line still has it.
/// </summary>
public sealed class SupervisorDecisionLog(IConnectionMultiplexer redis, ILogger<SupervisorDecisionLog> logger)
{
    public async Task WriteAsync(ScalingDecision decision, IReadOnlyCollection<string> leaving, ScalingLimits limits)
    {
        var queue = decision.Inputs.Queue;
        var entry = JsonSerializer.Serialize(new ScalerDecision(
            decision.Inputs.Now, decision.From, decision.To, decision.Reason, queue?.Ready, queue?.Unacked,
            queue?.OldestWaiting is { } age ? Math.Round(age.TotalSeconds, 1) : null, [.. leaving], limits.MinWorkers, limits.MaxWorkers),
            JsonSerializerOptions.Web);
        try
        {
            var database = redis.GetDatabase();
            var writes = new List<Task> { database.StringSetAsync(WorkerControl.ScalerCurrentKey, entry, WorkerControl.ScalerCurrentKeptFor) };
            if (decision.IsChange)
            {
                writes.Add(database.ListLeftPushAsync(WorkerControl.ScalerDecisionsKey, entry));
                writes.Add(database.ListTrimAsync(WorkerControl.ScalerDecisionsKey, 0, WorkerControl.ScalerDecisionsKept - 1));
                writes.Add(database.KeyExpireAsync(WorkerControl.ScalerDecisionsKey, WorkerControl.ScalerDecisionsKeptFor));
            }

            await Task.WhenAll(writes);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogDebug("Could not write the supervisor's decision to Redis: {Error}", e.Message);
        }
    }
}
