using StackExchange.Redis;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Counts, per upload, the starts that never finished, in Redis so every replica shares the count.
/// It is what stops a job that kills the worker process (the broker would redeliver it forever):
/// the start after the limit fails the upload instead of running it again.
/// Every start adds one and every end, however it ended (done, failed, an exception, the broker
/// connection lost mid-job), takes it back. What is left is the starts whose process died while
/// working, plus copies running right now. So a broker restart or a sweeper's republish, which
/// redeliver a job that then finishes, never count towards a false "poison".
/// </summary>
public sealed class ProcessingAttempts(IConnectionMultiplexer redis, ILogger<ProcessingAttempts> logger)
{
    private static readonly TimeSpan KeptFor = TimeSpan.FromDays(2);

    /// <summary>
    /// Records a start and returns the unfinished starts so far, this one included, or null when
    /// Redis cannot be reached (then there is nothing to <see cref="FinishAsync"/>).
    /// </summary>
    public async Task<long?> StartAsync(Guid uploadId)
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

    /// <summary>Takes back a start recorded by <see cref="StartAsync"/>: the process lived to see the job end.</summary>
    public async Task FinishAsync(Guid uploadId)
    {
        try
        {
            await redis.GetDatabase().StringDecrementAsync(Key(uploadId));
        }
        catch (RedisException e)
        {
            // The start stays counted: the job is one crash nearer the limit than it should be, no worse.
            logger.LogWarning(e, "Could not record the end of processing upload {UploadId}.", uploadId);
        }
    }

    public static string Key(Guid uploadId) => $"imageworker:attempts:{uploadId}";
}
