using System.Diagnostics;
using System.Text.Json;
using RabbitMQ.Client;
using Reference.Contracts;
using Reference.Tests.Support;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Reference.ImageWorker.Tests.Consumers;

/// <summary>A real worker process told to drain through Redis, as the jobs console and a scheduler tell it.</summary>
[Collection(MessagingCollection.Name)]
public sealed class WorkerDrainTests(MessagingServers messaging, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly BackingServers _servers = messaging.Servers;
    private readonly TestStorage _storage = new();
    private readonly PublishedEvents _events = new();
    private ConnectionMultiplexer? _redis;

    public Task InitializeAsync() => _events.StartAsync(_servers.RabbitMqConnectionString);

    [Fact]
    public async Task A_drained_worker_takes_no_new_job_leaves_it_queued_for_another_and_stops_promptly()
    {
        using var process = StartWorkerProcess();
        var workerId = $"drain-test.{Environment.MachineName}.{process.Id}";
        await HeartbeatAsync(workerId, h => h.State == "Running");
        var first = Job("kite-2560x1600.jpg");
        await _events.Bus.Publish(first);
        await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == first.UploadId);

        await Redis().StringSetAsync(WorkerControl.CommandKey(workerId), nameof(WorkerCommand.Drain));
        var clock = Stopwatch.StartNew();
        var drained = await HeartbeatAsync(workerId, h => h.State == "Drained");
        var drainedAfter = clock.Elapsed;
        Assert.Equal(1, drained.Done);
        Assert.Empty(drained.Jobs);

        var second = Job("flow-720x1440-portrait.jpg");
        await _events.Bus.Publish(second);
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Empty(_events.Of<ImageProcessingStarted>(e => e.UploadId == second.UploadId));
        Assert.True(await ReadyMessagesAsync(MessageEndpoints.ImageUploadedQueue) >= 1, "The job the drained worker left is not waiting in the queue.");

        clock.Restart();
        Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "The drained worker did not stop within 10 s of SIGTERM.");
        var stoppedAfter = clock.Elapsed;

        // Nothing lost: the next worker takes the job the drained one left.
        await using var next = new WorkerFactory(_servers, _storage.Root).Start();
        await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == second.UploadId);
        output.WriteLine($"[drain] drained {drainedAfter.TotalSeconds:0.0} s after the command; stopped {stoppedAfter.TotalSeconds:0.0} s after SIGTERM");
    }

    [Fact]
    public async Task A_resumed_worker_takes_jobs_again_starting_with_the_one_that_waited_while_it_was_drained()
    {
        using var process = StartWorkerProcess();
        try
        {
            var workerId = $"drain-test.{Environment.MachineName}.{process.Id}";
            await HeartbeatAsync(workerId, h => h.State == "Running");
            await Redis().StringSetAsync(WorkerControl.CommandKey(workerId), nameof(WorkerCommand.Drain));
            await HeartbeatAsync(workerId, h => h.State == "Drained");

            var waiting = Job("kite-2560x1600.jpg");
            await _events.Bus.Publish(waiting);
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Empty(_events.Of<ImageProcessingStarted>(e => e.UploadId == waiting.UploadId));

            await Redis().StringSetAsync(WorkerControl.CommandKey(workerId), nameof(WorkerCommand.Resume));
            var clock = Stopwatch.StartNew();
            await HeartbeatAsync(workerId, h => h.State == "Running");
            var runningAfter = clock.Elapsed;
            await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == waiting.UploadId);
            var processedAfter = clock.Elapsed;
            // The only worker there is took it: the resumed one, whose count says so.
            await HeartbeatAsync(workerId, h => h.Done == 1 && h.Jobs.Count == 0);

            // And it can be drained and resumed again, as the first time, and takes jobs after.
            await Redis().StringSetAsync(WorkerControl.CommandKey(workerId), nameof(WorkerCommand.Drain));
            await HeartbeatAsync(workerId, h => h.State == "Drained");
            await Redis().StringSetAsync(WorkerControl.CommandKey(workerId), nameof(WorkerCommand.Resume));
            await HeartbeatAsync(workerId, h => h.State == "Running");
            var afterSecondResume = Job("kite-2560x1600.jpg");
            await _events.Bus.Publish(afterSecondResume);
            await _events.WaitForAsync<ImageProcessed>(e => e.UploadId == afterSecondResume.UploadId);
            output.WriteLine($"[resume] Running {runningAfter.TotalSeconds:0.0} s after the command; the waiting job processed {processedAfter.TotalSeconds:0.0} s after it");
        }
        finally
        {
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
    }

    public async Task DisposeAsync()
    {
        await _events.DisposeAsync();
        _redis?.Dispose();
        _storage.Dispose();
    }

    private ImageUploaded Job(string photo)
    {
        var uploadId = Guid.NewGuid();
        return new ImageUploaded(uploadId, Guid.NewGuid(), _storage.AddOriginal(uploadId, Corpus.Path(photo)), "image/jpeg", 1);
    }

    private async Task<WorkerHeartbeat> HeartbeatAsync(string workerId, Func<WorkerHeartbeat, bool> condition)
    {
        var limit = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await Redis().StringGetAsync(WorkerControl.HeartbeatKey(workerId));
            if (value.HasValue && JsonSerializer.Deserialize<WorkerHeartbeat>(value.ToString(), JsonSerializerOptions.Web) is { } heartbeat && condition(heartbeat))
            {
                return heartbeat;
            }

            Assert.True(DateTime.UtcNow < limit, $"No such heartbeat from {workerId} within 30 s; last: {value}");
            await Task.Delay(200);
        }
    }

    private async Task<uint> ReadyMessagesAsync(string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(_servers.RabbitMqConnectionString) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    private IDatabase Redis() => (_redis ??= ConnectionMultiplexer.Connect(_servers.RedisConnectionString)).GetDatabase();

    private Process StartWorkerProcess()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Reference.ImageWorker.dll"));
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ConnectionStrings__messaging"] = _servers.RabbitMqConnectionString;
        start.Environment["ConnectionStrings__cache"] = _servers.RedisConnectionString;
        start.Environment["Storage__Root"] = _storage.Root;
        start.Environment["OTEL_SERVICE_NAME"] = "drain-test";
        var process = Process.Start(start) ?? throw new InvalidOperationException("ImageWorker did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
