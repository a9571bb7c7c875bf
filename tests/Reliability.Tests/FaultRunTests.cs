using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Reliability.Tests;

/// <summary>
/// The promise under fire: uploads stream in through the gateway while workers are killed,
/// the broker and the database restart, the servers (MariaDB, RabbitMQ, Redis) are SIGKILLed and an UploadApi replica dies. Every upload that got
/// its 202 must end Ready or Failed (only by the poison guard, after three worker kills), each Ready one with its files once on disk and its image
/// once on its product and every variant decoding to the size its original calls for.
/// </summary>
public sealed class FaultRunTests(ReliabilityStorefront storefront, ITestOutputHelper output) : IClassFixture<ReliabilityStorefront>
{
    private const int ClientConcurrency = 4;
    private const int Products = 10;

    private readonly HashSet<int> _killed = [];

    private enum Fault
    {
        WorkerKill,
        BrokerRestart,
        DatabaseRestart,
        UploadApiKill,
        MySqlKill,
        BrokerKill,
        RedisKill,
    }

    [Fact]
    public async Task Every_accepted_upload_ends_ready_or_failed_and_is_applied_once_while_services_crash_and_servers_restart()
    {
        using var wholeRun = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var uploads = int.Parse(Environment.GetEnvironmentVariable("REFERENCE_FAULT_UPLOADS") ?? "200", CultureInfo.InvariantCulture);
        var seed = int.TryParse(Environment.GetEnvironmentVariable("REFERENCE_FAULT_SEED"), out var fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        Log($"[fault-run] seed {seed} (set REFERENCE_FAULT_SEED={seed} to replay), {uploads} uploads");
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();

        var client = storefront.CreateClient();
        await using var deliveries = new ImageProcessedLog(storefront.App, storefront.Services("inventoryapi"));
        var products = new List<Guid>();
        for (var i = 0; i < Products; i++)
        {
            products.Add((await client.CreateProductAsync(category: "Faults")).Id);
        }

        var photos = Corpus.AllImages().Select(path => (Name: Path.GetFileName(path), Bytes: File.ReadAllBytes(path))).ToList();

        // Faults fire when the uploads sent so far pass a random share of the run, in random order.
        var faults = Enumerable.Repeat(Fault.WorkerKill, 5)
            .Concat(Enumerable.Repeat(Fault.BrokerRestart, 2))
            .Append(Fault.DatabaseRestart)
            .Append(Fault.UploadApiKill)
            // SIGKILL of the servers themselves: nothing flushed on the way out, as in a power cut.
            .Concat(Enumerable.Repeat(Fault.MySqlKill, 2))
            .Concat(Enumerable.Repeat(Fault.BrokerKill, 2))
            .Append(Fault.RedisKill)
            .OrderBy(_ => random.Next())
            .ToList();
        var thresholds = faults.Select(_ => (int)(uploads * (0.05 + 0.8 * random.NextDouble()))).Order().ToList();
        var schedule = faults.Zip(thresholds).ToList();

        var sent = 0;
        var attempts = new ConcurrentBag<UploadAttempt>();
        var uploader = new RetryingUploader(client);
        var sending = Parallel.ForEachAsync(
            Enumerable.Range(0, uploads),
            new ParallelOptions { MaxDegreeOfParallelism = ClientConcurrency, CancellationToken = wholeRun.Token },
            async (i, ct) =>
            {
                var photo = photos[i % photos.Count];
                Guid? product = i % 2 == 0 ? products[i / 2 % products.Count] : null;
                attempts.Add(await uploader.UploadAsync(photo.Bytes, photo.Name, product, ct));
                Interlocked.Increment(ref sent);
            });

        var done = new Dictionary<Fault, int>();
        foreach (var (fault, threshold) in schedule)
        {
            while (Volatile.Read(ref sent) < threshold && !sending.IsCompleted)
            {
                await Task.Delay(100, wholeRun.Token);
            }

            var target = await InjectAsync(fault, random, wholeRun.Token);
            done[fault] = done.GetValueOrDefault(fault) + 1;
            Log($"[fault-run] {clock.Elapsed:mm\\:ss} after {Volatile.Read(ref sent)} uploads: {fault} ({target})");
        }

        await sending;
        Log($"[fault-run] {clock.Elapsed:mm\\:ss} all {uploads} uploads sent; waiting for every replica and the pipeline to settle");

        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, storefront.Resources, TimeSpan.FromMinutes(2));
        var accepted = attempts.Where(a => a.Id is not null).Select(a => a.Id!.Value).ToHashSet();
        var audit = new OutcomeAudit(storefront.App, storefront.ImageStorage);
        var left = wholeRun.Token.IsCancellationRequested ? TimeSpan.FromSeconds(30) : TimeSpan.FromMinutes(8) - clock.Elapsed;
        await audit.WaitUntilSettledAsync(accepted, left > TimeSpan.FromSeconds(30) ? left : TimeSpan.FromSeconds(30));
        var outcome = await audit.CountAsync(accepted);

        var refused = attempts.Where(a => a.Id is null).ToList();
        Log($"[fault-run] {clock.Elapsed:mm\\:ss} settled; client retries {attempts.Sum(a => a.Retries)}, never accepted {refused.Count} " +
            $"({string.Join(", ", refused.GroupBy(a => a.LastStatus?.ToString() ?? "transport error").Select(g => $"{g.Key} x{g.Count()}"))}), " +
            $"upload rows {outcome.Rows}");
        foreach (var problem in outcome.Problems.Take(20))
        {
            Log("[fault-run] problem: " + problem);
        }

        foreach (var failure in outcome.Failures.Take(20))
        {
            Log("[fault-run] failed: " + failure);
        }

        // Each Ready upload for a product applied exactly once, however often ImageProcessed was delivered.
        var appliedOnce = outcome.ReadyForProduct.Count(id => deliveries.Applied(id) == 1);
        var repeated = deliveries.RepeatedDeliveries(accepted);
        Log($"fault-run: accepted {outcome.Accepted}, ready {outcome.Ready}, failed {outcome.Failed}, lost {outcome.Lost}, " +
            $"ImageProcessed applied once {appliedOnce} of {outcome.ReadyForProduct.Count}, repeated deliveries ignored {repeated}, " +
            $"kills {done.GetValueOrDefault(Fault.WorkerKill)}, " +
            $"broker restarts {done.GetValueOrDefault(Fault.BrokerRestart)}, db restarts {done.GetValueOrDefault(Fault.DatabaseRestart)}, " +
            $"uploadapi kills {done.GetValueOrDefault(Fault.UploadApiKill)}, mysql kills {done.GetValueOrDefault(Fault.MySqlKill)}, " +
            $"broker kills {done.GetValueOrDefault(Fault.BrokerKill)}, redis kills {done.GetValueOrDefault(Fault.RedisKill)}, " +
            $"{clock.Elapsed.TotalSeconds:0} s");

        Assert.Equal(0, outcome.Lost);
        Assert.Equal(0, outcome.DuplicatesApplied);
        Assert.Equal(outcome.ReadyForProduct.Count, appliedOnce);
        Assert.Equal(0, outcome.Stray);
        Assert.Equal(outcome.Accepted, outcome.Ready + outcome.Failed);
        // Every corpus photo is good: none may fail. A photo in a worker's hands at three kills in a
        // row is run alone next, so the poison guard fails only a job that kills a worker by itself.
        Assert.Empty(outcome.Failures);
        // Retries carried the same Idempotency-Key: no retry may have made a second upload.
        Assert.Equal(outcome.Accepted, outcome.Rows);
        // Every client got its 202 in the end: faults cost retries, not uploads.
        Assert.Empty(refused);
        Assert.Equal((5, 2, 1, 1), (done[Fault.WorkerKill], done[Fault.BrokerRestart], done[Fault.DatabaseRestart], done[Fault.UploadApiKill]));
        Assert.Equal((2, 2, 1), (done[Fault.MySqlKill], done[Fault.BrokerKill], done[Fault.RedisKill]));
    }

    private async Task<string> InjectAsync(Fault fault, Random random, CancellationToken cancellationToken)
    {
        var app = storefront.App;
        switch (fault)
        {
            case Fault.WorkerKill or Fault.UploadApiKill:
                var service = fault == Fault.WorkerKill ? "imageworker" : "uploadapi";
                // Kill a live process, never one killed before (it lingers in /proc for a moment):
                // wait until one is back if the last kills took them all.
                var replicas = storefront.Services(service);
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    wait.CancelAfter(TimeSpan.FromMinutes(1));
                    while (true)
                    {
                        var live = replicas
                            .Where(r => Faults.IsRunningAndHealthy(app, r) && Faults.TryFindPid(app, r) is { } p && !_killed.Contains(p))
                            .ToList();
                        if (live.Count > 0)
                        {
                            var victim = live[random.Next(live.Count)];
                            var pid = Faults.Kill(app, victim);
                            _killed.Add(pid);
                            return $"{victim}, pid {pid}";
                        }

                        await Task.Delay(250, wait.Token);
                    }
                }

            case Fault.BrokerRestart:
                await Faults.RestartAsync(app, "messaging");
                await Faults.WaitUntilRunningAndHealthyAsync(app, ["messaging"], TimeSpan.FromMinutes(1));
                return "messaging";
            case Fault.DatabaseRestart:
                await Faults.RestartAsync(app, "mysql");
                await Faults.WaitUntilRunningAndHealthyAsync(app, ["mysql"], TimeSpan.FromMinutes(1));
                return "mysql";
            case Fault.MySqlKill or Fault.BrokerKill or Fault.RedisKill:
                var (resource, process) = fault switch
                {
                    Fault.MySqlKill => ("mysql", "mariadbd"),
                    Fault.BrokerKill => ("messaging", "beam.smp"),
                    _ => ("cache", "redis-server"),
                };
                // Only the AppHost's supervision brings it back; wait for that before the next fault.
                await Faults.WaitUntilRunningAndHealthyAsync(app, [resource], TimeSpan.FromMinutes(1));
                var launcher = Faults.TryFindPid(app, resource);
                var killed = Faults.KillServer(app, resource, process);
                using (var back = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    back.CancelAfter(TimeSpan.FromSeconds(90));
                    while (!(Faults.IsRunningAndHealthy(app, resource) && Faults.TryFindPid(app, resource) is { } now && now != launcher))
                    {
                        await Task.Delay(250, back.Token);
                    }
                }

                return $"{process}, pid {killed}";
            default:
                throw new ArgumentOutOfRangeException(nameof(fault));
        }
    }

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
