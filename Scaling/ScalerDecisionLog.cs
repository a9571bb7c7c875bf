using System.Text.Json;
using Reference.Contracts;
using StackExchange.Redis;

namespace Reference.Scaling;

/// <summary>
/// A scaler's decisions where the operations console reads them (<c>GET /api/ops/scaler</c>), written the same way by the
/// AppHost's scaler and compose's supervisor: every round's as the current one (<see cref="WorkerControl.ScalerCurrentKey"/>,
/// expiring when no scaler runs), and each change of the pool in a capped list that outlives the run for a day.
/// Redis errors propagate: each scaler logs them its own way and goes on.
/// </summary>
public static class ScalerDecisionLog
{
    /// <param name="database">Redis, as a user that may write <c>ops:*</c>.</param>
    /// <param name="decision">This round's decision.</param>
    /// <param name="leaving">The workers being drained to stop.</param>
    /// <param name="limits">The pool's resolved limits, shown beside the decision.</param>
    public static Task WriteAsync(IDatabaseAsync database, ScalingDecision decision, IReadOnlyCollection<string> leaving, ScalingLimits limits)
    {
        var queue = decision.Inputs.Queue;
        var entry = JsonSerializer.Serialize(new ScalerDecision(
            decision.Inputs.Now, decision.From, decision.To, decision.Reason, queue?.Ready, queue?.Unacked,
            queue?.OldestWaiting is { } age ? Math.Round(age.TotalSeconds, 1) : null, [.. leaving], limits.MinWorkers, limits.MaxWorkers),
            JsonSerializerOptions.Web);
        var writes = new List<Task> { database.StringSetAsync(WorkerControl.ScalerCurrentKey, entry, WorkerControl.ScalerCurrentKeptFor) };
        if (decision.IsChange)
        {
            writes.Add(database.ListLeftPushAsync(WorkerControl.ScalerDecisionsKey, entry));
            writes.Add(database.ListTrimAsync(WorkerControl.ScalerDecisionsKey, 0, WorkerControl.ScalerDecisionsKept - 1));
            writes.Add(database.KeyExpireAsync(WorkerControl.ScalerDecisionsKey, WorkerControl.ScalerDecisionsKeptFor));
        }

        return Task.WhenAll(writes);
    }

    /// <summary>A change of an API's replicas, into the same list as the workers' (the current round stays the workers').</summary>
    /// <param name="database">Redis, as a user that may write <c>ops:*</c>.</param>
    /// <param name="decision">A decision that changes the count.</param>
    /// <param name="replicas">The API's replica count: the cap.</param>
    public static Task WriteAsync(IDatabaseAsync database, ApiScalingDecision decision, int replicas)
    {
        var entry = JsonSerializer.Serialize(new ScalerDecision(
            decision.Now, decision.From, decision.To, decision.Reason, null, null, null, [], 1, replicas, decision.Api), JsonSerializerOptions.Web);
        return Task.WhenAll(
            database.ListLeftPushAsync(WorkerControl.ScalerDecisionsKey, entry),
            database.ListTrimAsync(WorkerControl.ScalerDecisionsKey, 0, WorkerControl.ScalerDecisionsKept - 1),
            database.KeyExpireAsync(WorkerControl.ScalerDecisionsKey, WorkerControl.ScalerDecisionsKeptFor));
    }
}
