using Reference.Contracts;
using Reference.ImageWorker.Consumers;
using Reference.Tests.Support;
using StackExchange.Redis;

namespace Reference.ImageWorker.Tests.Consumers;

public sealed partial class ImageUploadedConsumerTests
{
    [Fact]
    public async Task A_job_that_kills_the_worker_process_each_time_is_run_alone_then_failed_instead_of_looping()
    {
        await using (new WorkerFactory(_servers, _storage.Root).Start())
        {
            // Declares the queue, so the job waits for the worker processes below.
        }

        // A job that hangs once started: each kill below lands mid-job, however fast the machine.
        var hanging = Guid.NewGuid();
        var job = Job(Corpus.Path("kite-2560x1600.jpg"), hanging);
        await _events.Bus.Publish(job);
        // Two deaths with the job in hand reach the limit; the third start is alone in its worker, and dies too.
        for (var start = 1; start <= 3; start++)
        {
            using var crashing = StartWorkerProcess(maxProcessingAttempts: 2, hangOnProductId: hanging);
            try
            {
                await _events.WaitForAsync<ImageProcessingStarted>(e => e.UploadId == job.UploadId, count: start);
            }
            finally
            {
                crashing.Kill(); // SIGKILL mid-job: the broker redelivers the unacknowledged job
                await crashing.WaitForExitAsync();
            }
        }

        using var worker = StartWorkerProcess(maxProcessingAttempts: 2, hangOnProductId: hanging);
        try
        {
            var failed = await _events.WaitForAsync<ImageProcessingFailed>(e => e.UploadId == job.UploadId);
            Assert.Contains("started 3 times without finishing, the last time with nothing else running", failed.Reason, StringComparison.Ordinal);
            Assert.Empty(_events.Of<ImageProcessed>(e => e.UploadId == job.UploadId));
            Assert.Equal(3, _events.Of<ImageProcessingStarted>(e => e.UploadId == job.UploadId).Count);
            Assert.False(Directory.Exists(Path.Combine(_storage.Root, "variants", job.UploadId.ToString())));
        }
        finally
        {
            worker.Kill();
            await worker.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_job_that_only_shared_its_worker_with_crashes_runs_alone_and_is_processed()
    {
        await using var worker = new WorkerFactory(_servers, _storage.Root).Start();
        var job = Job(Corpus.Path("kite-2560x1600.jpg"));
        // As if three worker processes had died while this job was one of the jobs in their hands.
        await Redis().StringSetAsync(ProcessingAttempts.Key(job.UploadId), 3);

        await _events.Bus.Publish(job);

        var processed = await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == job.UploadId);
        Assert.Equal(3, processed.Variants.Count);
        Assert.Empty(_events.Of<ImageProcessingFailed>(e => e.UploadId == job.UploadId));
        Assert.Equal(3, await UnfinishedStartsAsync(job.UploadId));
        Assert.Equal(0, (long)await Redis().StringGetAsync(ProcessingAttempts.AloneKey(job.UploadId)));
    }

    [Fact]
    public async Task Only_starts_that_never_ended_count_towards_the_poison_limit()
    {
        var attempts = new ProcessingAttempts(RedisConnection(), Microsoft.Extensions.Logging.Abstractions.NullLogger<ProcessingAttempts>.Instance);
        var uploadId = Guid.NewGuid();

        // Three deliveries that ended (done, failed, or cut off by a broker restart), one at a time.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(new ProcessingAttempts.Starts(1, 0), await attempts.StartAsync(uploadId, alone: false));
            await attempts.FinishAsync(uploadId, alone: false);
        }

        // Two starts whose process died: nothing took them back.
        Assert.Equal(new ProcessingAttempts.Starts(1, 0), await attempts.StartAsync(uploadId, alone: false));
        Assert.Equal(new ProcessingAttempts.Starts(2, 0), await attempts.StartAsync(uploadId, alone: false));
        Assert.Equal(new ProcessingAttempts.Starts(3, 0), await attempts.StartAsync(uploadId, alone: false));
        // Past the limit it runs alone: one start that ended, then one that died.
        Assert.Equal(new ProcessingAttempts.Starts(4, 1), await attempts.StartAsync(uploadId, alone: true));
        await attempts.FinishAsync(uploadId, alone: true);
        Assert.Equal(new ProcessingAttempts.Starts(4, 1), await attempts.StartAsync(uploadId, alone: true));
        Assert.Equal(new ProcessingAttempts.Starts(5, 2), await attempts.StartAsync(uploadId, alone: true));
        Assert.True(await Redis().KeyTimeToLiveAsync(ProcessingAttempts.Key(uploadId)) > TimeSpan.FromDays(1));
    }

    private IDatabase Redis() => RedisConnection().GetDatabase();

    private ConnectionMultiplexer RedisConnection() => _redis ??= ConnectionMultiplexer.Connect(_servers.RedisConnectionString);

    private async Task<long> UnfinishedStartsAsync(Guid uploadId) =>
        (long)await Redis().StringGetAsync(ProcessingAttempts.Key(uploadId));
}
