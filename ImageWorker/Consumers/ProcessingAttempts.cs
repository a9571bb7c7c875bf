using StackExchange.Redis;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Counts how often a worker has started on each upload, in Redis so every replica shares the count.
/// It is what stops a job that kills the worker process (the broker would redeliver it forever):
/// the start after the limit fails the upload instead of running it again.
/// Only a redelivery (the broker hands the job out again because the worker holding it died or
/// lost its connection) adds to the count. A fresh copy of the job, such as the sweeper's
/// republish of an upload that waited long in the queue, only records the first start: copies
/// of a good job processed side by side must not add up to a false "poison".
/// </summary>
public sealed class ProcessingAttempts(IConnectionMultiplexer redis, ILogger<ProcessingAttempts> logger)
{
    private static readonly TimeSpan KeptFor = TimeSpan.FromDays(2);

    /// <summary>Records one more start and returns the count so far, or null when Redis cannot be reached.</summary>
    /// <param name="redelivered">The broker redelivered this job (<c>ReceiveContext.Redelivered</c>).</param>
    public async Task<long?> RecordStartAsync(Guid uploadId, bool redelivered)
    {
        var key = Key(uploadId);
        try
        {
            var database = redis.GetDatabase();
            long count;
            if (redelivered)
            {
                count = await database.StringIncrementAsync(key);
            }
            else
            {
                await database.StringSetAsync(key, 1, when: When.NotExists);
                count = (long)await database.StringGetAsync(key);
            }

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
