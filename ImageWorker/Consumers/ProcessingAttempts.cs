using StackExchange.Redis;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Counts how often a worker has started on each upload, in Redis so every replica shares the count.
/// It is what stops a job that kills the worker process (the broker would redeliver it forever):
/// the start after the limit fails the upload instead of running it again.
/// </summary>
public sealed class ProcessingAttempts(IConnectionMultiplexer redis, ILogger<ProcessingAttempts> logger)
{
    private static readonly TimeSpan KeptFor = TimeSpan.FromDays(2);

    /// <summary>Records one more start and returns the count so far, or null when Redis cannot be reached.</summary>
    public async Task<long?> RecordStartAsync(Guid uploadId)
    {
        var key = Key(uploadId);
        try
        {
            var database = redis.GetDatabase();
            var count = await database.StringIncrementAsync(key);
            await database.KeyExpireAsync(key, KeptFor, flags: CommandFlags.FireAndForget);
            return count;
        }
        catch (RedisException e)
        {
            // Fail open: an outage of the cache must not stop image processing; only the poison guard is lost meanwhile.
            logger.LogWarning(e, "Could not count the processing attempts of upload {UploadId}; processing it anyway.", uploadId);
            return null;
        }
    }

    public static string Key(Guid uploadId) => $"imageworker:attempts:{uploadId}";
}
