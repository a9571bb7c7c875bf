using System.Text.Json;
using Reference.Contracts;
using StackExchange.Redis;

namespace Reference.UploadApi.Operations;

/// <summary>The worker scaler's decisions as it leaves them in Redis (Scaling/ScalerDecisionLog.cs).</summary>
public sealed class ScalerDecisions(IConnectionMultiplexer redis)
{
    public async Task<ScalerView> ReadAsync()
    {
        var database = redis.GetDatabase();
        var current = await database.StringGetAsync(WorkerControl.ScalerCurrentKey);
        var changes = await database.ListRangeAsync(WorkerControl.ScalerDecisionsKey, 0, WorkerControl.ScalerDecisionsKept - 1);
        return new ScalerView(
            current.HasValue ? Parse(current) : null,
            changes.Select(Parse).ToList());
    }

    private static ScalerDecision Parse(RedisValue value) => JsonSerializer.Deserialize<ScalerDecision>(value.ToString(), JsonSerializerOptions.Web)!;
}

/// <param name="Current">The scaler's latest round; null when no scaler runs (a fixed pool, or the compose supervisor).</param>
/// <param name="Changes">Its last changes of the pool, newest first.</param>
public sealed record ScalerView(ScalerDecision? Current, IReadOnlyList<ScalerDecision> Changes);
