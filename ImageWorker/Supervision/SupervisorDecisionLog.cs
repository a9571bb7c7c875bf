using System.Text.Json;
using Reference.Scaling;
using StackExchange.Redis;

namespace Reference.ImageWorker.Supervision;

/// <summary>
/// The supervisor's decisions where the operations console reads the AppHost scaler's: every round's under
/// <see cref="CurrentKey"/>, expiring when no supervisor runs, and each change of the pool in a capped list that
/// outlives the run for a day. Same keys and JSON as the AppHost's scaler, so the console needs no second reader;
/// the imageworker's Redis user may write <c>ops:*</c>. Redis down: the log line still has it.
/// </summary>
public sealed class SupervisorDecisionLog(IConnectionMultiplexer redis, ILogger<SupervisorDecisionLog> logger)
{
    public const string DecisionsKey = "ops:scaler:decisions";
    public const string CurrentKey = "ops:scaler:current";
    public const int DecisionsKept = 50;
    private static readonly TimeSpan CurrentFor = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ChangesFor = TimeSpan.FromDays(1);

    public async Task WriteAsync(ScalingDecision decision, IReadOnlyCollection<string> leaving, ScalingLimits limits)
    {
        var queue = decision.Inputs.Queue;
        var entry = JsonSerializer.Serialize(new Entry(
            decision.Inputs.Now, decision.From, decision.To, decision.Reason, queue?.Ready, queue?.Unacked,
            queue?.OldestWaiting is { } age ? Math.Round(age.TotalSeconds, 1) : null, [.. leaving], limits.MinWorkers, limits.MaxWorkers),
            JsonSerializerOptions.Web);
        try
        {
            var database = redis.GetDatabase();
            var writes = new List<Task> { database.StringSetAsync(CurrentKey, entry, CurrentFor) };
            if (decision.IsChange)
            {
                writes.Add(database.ListLeftPushAsync(DecisionsKey, entry));
                writes.Add(database.ListTrimAsync(DecisionsKey, 0, DecisionsKept - 1));
                writes.Add(database.KeyExpireAsync(DecisionsKey, ChangesFor));
            }

            await Task.WhenAll(writes);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogDebug("Could not write the supervisor's decision to Redis: {Error}", e.Message);
        }
    }

    /// <summary>The console's <c>ScalerDecision</c> (Contracts, with the AppHost's scaler), field for field.</summary>
    private sealed record Entry(
        DateTimeOffset At, int From, int To, string Reason, int? Ready, int? Unacked, double? OldestWaitingSeconds,
        IReadOnlyList<string> Leaving, int MinWorkers, int MaxWorkers);
}
