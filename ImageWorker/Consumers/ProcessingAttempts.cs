using StackExchange.Redis;
using Reference.Contracts;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// The poison decision: counts, per upload and in Redis, the starts that never finished, so a job that
/// kills its worker is failed instead of redelivered forever. Every end takes its start back; past the
/// limit a job runs alone (<see cref="WorkerJobGate"/>) and only a death alone fails it (docs/reliability.md, row 6).
/// </summary>
public sealed class ProcessingAttempts(IConnectionMultiplexer redis, ILogger<ProcessingAttempts> logger)
{
    private static readonly TimeSpan KeptFor = TimeSpan.FromDays(2);

    /// <summary>The unfinished starts so far (0 when none), or null when Redis cannot be reached.</summary>
    public async Task<long?> UnfinishedAsync(Guid uploadId)
    {
        try
        {
            return (long)await redis.GetDatabase().StringGetAsync(Key(uploadId));
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogWarning(e, "Could not read the processing attempts of upload {UploadId}.", uploadId);
            return null;
        }
    }

    /// <summary>
    /// Records a start and returns the unfinished starts so far, this one included, or null when
    /// Redis cannot be reached (then there is nothing to <see cref="FinishAsync"/>).
    /// </summary>
    public async Task<Starts?> StartAsync(Guid uploadId, bool alone)
    {
        try
        {
            var database = redis.GetDatabase();
            var all = await database.StringIncrementAsync(Key(uploadId));
            await database.KeyExpireAsync(Key(uploadId), KeptFor, flags: CommandFlags.FireAndForget);
            var aloneStarts = 0L;
            if (alone)
            {
                aloneStarts = await database.StringIncrementAsync(AloneKey(uploadId));
                await database.KeyExpireAsync(AloneKey(uploadId), KeptFor, flags: CommandFlags.FireAndForget);
            }

            return new Starts(all, aloneStarts);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            // Fail open: an outage of the cache must not stop image processing; only the poison guard is lost meanwhile.
            logger.LogWarning(e, "Could not count the processing attempts of upload {UploadId}; processing it anyway.", uploadId);
            return null;
        }
    }

    /// <summary>Takes back a start recorded by <see cref="StartAsync"/>: the process lived to see the job end.</summary>
    public async Task FinishAsync(Guid uploadId, bool alone)
    {
        try
        {
            var database = redis.GetDatabase();
            await database.StringDecrementAsync(Key(uploadId));
            if (alone)
            {
                await database.StringDecrementAsync(AloneKey(uploadId));
            }
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            // The start stays counted: the job is one crash nearer the limit than it should be, no worse.
            logger.LogWarning(e, "Could not record the end of processing upload {UploadId}.", uploadId);
        }
    }

    public static string Key(Guid uploadId) => WorkerControl.AttemptsKey(uploadId);

    public static string AloneKey(Guid uploadId) => WorkerControl.AloneAttemptsKey(uploadId);

    /// <summary>Unfinished starts of one upload, this one included: all of them, and those made alone.</summary>
    public readonly record struct Starts(long All, long Alone);
}
