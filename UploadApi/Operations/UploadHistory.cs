using System.Text.Json;
using Reference.Contracts;
using StackExchange.Redis;

namespace Reference.UploadApi.Operations;

/// <summary>
/// What happened to one upload, for the operations console: UploadApi's state changes and an operator's
/// actions here, the workers' steps (started, processed, failed and why) beside them, in one Redis list per
/// upload (<see cref="WorkerControl.HistoryKey"/>). A view, not the record: the row stays the truth,
/// and Redis being away costs lines of history, never an upload.
/// </summary>
public sealed class UploadHistory(IConnectionMultiplexer redis, ILogger<UploadHistory> logger)
{
    public const string Source = "uploadapi";
    private const int Length = 50;
    private static readonly TimeSpan KeptFor = TimeSpan.FromDays(2);

    public void Record(Guid uploadId, string @event, string? detail = null)
    {
        try
        {
            var entry = JsonSerializer.Serialize(new UploadHistoryEntry(DateTimeOffset.UtcNow, Source, @event, detail), JsonSerializerOptions.Web);
            var database = redis.GetDatabase();
            var key = WorkerControl.HistoryKey(uploadId);
            database.ListRightPush(key, entry, flags: CommandFlags.FireAndForget);
            database.ListTrim(key, -Length, -1, flags: CommandFlags.FireAndForget);
            database.KeyExpire(key, KeptFor, flags: CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogDebug(e, "Could not record {Event} in the history of upload {UploadId}.", @event, uploadId);
        }
    }

    public async Task<IReadOnlyList<UploadHistoryEntry>> ReadAsync(Guid uploadId)
    {
        try
        {
            var entries = await redis.GetDatabase().ListRangeAsync(WorkerControl.HistoryKey(uploadId));
            return entries.Select(e => JsonSerializer.Deserialize<UploadHistoryEntry>(e.ToString(), JsonSerializerOptions.Web)!)
                .OrderBy(e => e.At)
                .ToList();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning(e, "Could not read the history of upload {UploadId}.", uploadId);
            return [];
        }
    }

    /// <summary>When a worker last started each upload, from the histories (one round trip for all of them).</summary>
    public async Task<Dictionary<Guid, DateTimeOffset>> LastStartsAsync(IReadOnlyCollection<Guid> uploadIds)
    {
        var starts = new Dictionary<Guid, DateTimeOffset>();
        try
        {
            var database = redis.GetDatabase();
            var reads = uploadIds.Select(id => (Id: id, Entries: database.ListRangeAsync(WorkerControl.HistoryKey(id), -Length, -1))).ToList();
            foreach (var (id, entries) in reads)
            {
                var last = (await entries)
                    .Select(e => JsonSerializer.Deserialize<UploadHistoryEntry>(e.ToString(), JsonSerializerOptions.Web)!)
                    .LastOrDefault(e => e.Event == "started");
                if (last is not null)
                {
                    starts[id] = last.At;
                }
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogDebug(e, "Could not read the start times of the latest uploads.");
        }

        return starts;
    }
}
