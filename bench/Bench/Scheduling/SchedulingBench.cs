using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Reference.AppHost.Scaling;
using Reference.Bench.Report;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.Bench.Scheduling;

/// <summary>
/// The elastic worker pool (issue 15) on the whole storefront, scaler on: upload→Ready from an empty pool, a burst
/// from an idle pool against a static pool of the cap in the same run, and what an idle pool holds in memory.
/// </summary>
public static partial class SchedulingBench
{
    private const string AdminKey = "bench-admin-key-0123456789abcdefghijklmnop";
    private const string Photo = "kite-2560x1600.jpg";

    /// <param name="MinWorkers">The scaler's floor (<c>Scaling:MinWorkers</c>): the burst starts from this many idle workers.</param>
    public sealed record Settings(int Tries, int BurstUploads, int Clients, int MaxWorkers, TimeSpan IdleTimeout, TimeSpan Interval, string Phases, int MinWorkers = 0);

    /// <param name="AcceptedMs">Upload until its 202.</param>
    /// <param name="ScalerMs">202 until the scaler decided to start a worker.</param>
    /// <param name="ProcessMs">That decision until the worker process's own start (after the launcher).</param>
    /// <param name="FirstJobMs">The worker's process start until it started the job.</param>
    /// <param name="JobMs">The job's start until the status said Ready (processing, the Ready event, the poll).</param>
    public sealed record ColdStart(double TotalMs, double AcceptedMs, double? ScalerMs, double? ProcessMs, double? FirstJobMs, double? JobMs);

    public sealed record Burst(string Pool, int Uploads, int Clients, double Seconds, double JobsPerSecond, int Failed, double? SecondsToCap, int MostWorkers);

    /// <param name="ZeroPoolMb">Resident memory of every service process tree (launchers included, where a service has one) with no worker running.</param>
    /// <param name="TwoIdleWorkersMb">The same with two idle workers, each after one job (as a fixed pool of two idles after its first uploads).</param>
    /// <param name="WorkerTreeMb">One idle worker's process tree: the worker (started from its dll; before, <c>dotnet run</c> above it too).</param>
    public sealed record IdleMemory(double ZeroPoolMb, double TwoIdleWorkersMb, IReadOnlyList<double> WorkerTreeMb);

    public sealed record Result(
        int MaxWorkers, string IdleTimeout, string Interval, IReadOnlyList<ColdStart> ColdStarts, double? ColdP50Ms, double? ColdP95Ms,
        Burst? Elastic, Burst? Static, double? ElasticToStatic, double? SecondsBackToZero, IdleMemory? Memory, double LoadBefore, double LoadAfter,
        Burst? ElasticAgain = null, double? ElasticAgainToStatic = null);

    public static async Task<Result> RunAsync(Settings settings, Action<string> log)
    {
        var loadBefore = Machine.LoadAverage();
        var data = Directory.CreateTempSubdirectory("bench-scheduling-").FullName;
        log($"scheduling: starting the AppHost (scaler on, 0..{settings.MaxWorkers} workers, idle timeout {settings.IdleTimeout.TotalSeconds} s)");
        var app = await StorefrontHost.StartAsync(data, AdminKey, Configure,
        [
            "--Scaling:Enabled=true",
            $"--Scaling:MinWorkers={settings.MinWorkers}",
            $"--Scaling:MaxWorkers={settings.MaxWorkers}",
            $"--Scaling:IdleTimeout={settings.IdleTimeout:c}",
            $"--Scaling:Interval={settings.Interval:c}",
            "--Scaling:StableWindow=00:00:05",
        ]);
        try
        {
            var workers = Enumerable.Range(1, settings.MaxWorkers).Select(i => $"{WorkerPool.WorkerName}-{i}").ToList();
            var services = app.Services.GetRequiredService<DistributedApplicationModel>().Resources
                .Where(r => (r is ProjectResource && !workers.Contains(r.Name)) || r is IResourceWithConnectionString)
                .Select(r => r.Name).Where(name => !StorefrontHost.IsOneShot(name)).ToList();
            await StorefrontHost.WaitUntilHealthyAsync(app, services, TimeSpan.FromMinutes(5));
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
            {
                BaseAddress = app.GetEndpoint("gateway", "http"), Timeout = TimeSpan.FromSeconds(60),
            };
            var client = new StorefrontClient(http, AdminKey);
            var photo = File.ReadAllBytes(Corpus.Path(Photo));
            var pool = new Pool(app, workers);

            // The services' own first requests are not the pool's cold start: one upload warms them.
            await UploadAndWaitAsync(client, photo);
            IdleMemory? memory = null;
            if (settings.Phases.Contains("memory", StringComparison.Ordinal) && settings.MaxWorkers >= 2)
            {
                memory = await MeasureIdleMemoryAsync(app, client, photo, pool, services, settings, log);
            }

            var colds = new List<ColdStart>();
            if (settings.Phases.Contains("cold", StringComparison.Ordinal))
            {
                for (var i = 0; i < settings.Tries; i++)
                {
                    await pool.UntilEmptyAsync(settings.IdleTimeout + TimeSpan.FromMinutes(1));
                    await Task.Delay(1000);
                    var cold = await ColdStartAsync(client, photo);
                    colds.Add(cold);
                    log($"scheduling: cold start {i + 1}: {cold.TotalMs:0} ms (accepted {cold.AcceptedMs:0}, scaler {cold.ScalerMs:0}, "
                        + $"process {cold.ProcessMs:0}, to the job {cold.FirstJobMs:0}, job to Ready {cold.JobMs:0})");
                }
            }

            Burst? elastic = null, fixedPool = null, again = null;
            double? backToZero = null;
            if (settings.Phases.Contains("burst", StringComparison.Ordinal))
            {
                await pool.UntilAtMostAsync(settings.MinWorkers, settings.IdleTimeout + TimeSpan.FromMinutes(1));
                elastic = await BurstAsync($"elastic from {settings.MinWorkers}", client, photo, pool, settings);
                log($"scheduling: burst, elastic from {settings.MinWorkers}: {elastic.JobsPerSecond} jobs/s, cap after {elastic.SecondsToCap} s, failed {elastic.Failed}");
                var idle = Stopwatch.StartNew();
                await pool.UntilAtMostAsync(settings.MinWorkers, settings.IdleTimeout + TimeSpan.FromMinutes(2));
                backToZero = Math.Round(idle.Elapsed.TotalSeconds, 1);
                log($"scheduling: pool back at {settings.MinWorkers} {backToZero} s after the burst's last upload was Ready");

                // The static pool: the scaler paused, every worker started and warm (one job each), as a fixed pool runs.
                var scaler = app.Services.GetRequiredService<WorkerScaler>();
                await scaler.StopAsync(CancellationToken.None);
                await pool.StartAllAsync();
                await Task.WhenAll(Enumerable.Range(0, 2 * settings.MaxWorkers).Select(_ => UploadAndWaitAsync(client, photo)));
                fixedPool = await BurstAsync($"static {settings.MaxWorkers}", client, photo, pool, settings);
                log($"scheduling: burst, static pool of {settings.MaxWorkers}: {fixedPool.JobsPerSecond} jobs/s, failed {fixedPool.Failed}");
                await scaler.StartAsync(CancellationToken.None);

                // Once more from the idle pool, the services now warm: the first elastic burst also paid their first requests.
                await pool.UntilAtMostAsync(settings.MinWorkers, settings.IdleTimeout + TimeSpan.FromMinutes(2));
                again = await BurstAsync($"elastic from {settings.MinWorkers}, services warm", client, photo, pool, settings);
                log($"scheduling: burst, elastic from {settings.MinWorkers} again: {again.JobsPerSecond} jobs/s, cap after {again.SecondsToCap} s, failed {again.Failed}");
            }

            var p50 = colds.Count > 0 ? Math.Round(Stats.Median(colds.Select(c => c.TotalMs).ToList())) : (double?)null;
            var p95 = colds.Count > 0 ? Math.Round(Stats.Percentile(colds.Select(c => c.TotalMs).ToList(), 95)) : (double?)null;
            log($"scheduling: cold upload→Ready p50 {p50} ms, p95 {p95} ms over {colds.Count}");
            return new Result(settings.MaxWorkers, settings.IdleTimeout.ToString("c"), settings.Interval.ToString("c"), colds, p50, p95,
                elastic, fixedPool, elastic is not null && fixedPool is not null ? Math.Round(elastic.JobsPerSecond / fixedPool.JobsPerSecond, 2) : null,
                backToZero, memory, loadBefore, Machine.LoadAverage(),
                again, again is not null && fixedPool is not null ? Math.Round(again.JobsPerSecond / fixedPool.JobsPerSecond, 2) : null);
        }
        finally
        {
            await app.DisposeAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>One upload into an empty pool, its time split by what the console records: the scaler's decision, the worker's start, the job's.</summary>
    private static async Task<ColdStart> ColdStartAsync(StorefrontClient client, byte[] photo)
    {
        var uploadedAt = DateTimeOffset.UtcNow;
        var (totalMs, acceptedMs, id) = await UploadAndWaitAsync(client, photo);
        var scaler = await ReadAsync(client, "/api/ops/scaler");
        var up = scaler.GetProperty("changes").EnumerateArray()
            .Where(d => d.GetProperty("from").GetInt32() == 0 && d.GetProperty("to").GetInt32() > 0 && d.GetProperty("at").GetDateTimeOffset() >= uploadedAt)
            .Select(d => d.GetProperty("at").GetDateTimeOffset()).DefaultIfEmpty().Min();
        var history = await ReadAsync(client, $"/api/ops/uploads/{id}");
        var started = history.GetProperty("history").EnumerateArray().FirstOrDefault(e => e.GetProperty("event").GetString() == "started");
        var worker = started.ValueKind == JsonValueKind.Object ? started.GetProperty("source").GetString() : null;
        var workers = await ReadAsync(client, "/api/ops/workers");
        var process = workers.EnumerateArray().Select(w => w.GetProperty("heartbeat"))
            .FirstOrDefault(h => h.GetProperty("workerId").GetString() == worker);
        var acceptedAt = uploadedAt.AddMilliseconds(acceptedMs);
        DateTimeOffset? decided = up == default ? null : up;
        DateTimeOffset? processStarted = process.ValueKind == JsonValueKind.Object ? process.GetProperty("startedAt").GetDateTimeOffset() : null;
        DateTimeOffset? jobStarted = started.ValueKind == JsonValueKind.Object ? started.GetProperty("at").GetDateTimeOffset() : null;
        var readyAt = uploadedAt.AddMilliseconds(totalMs);
        return new ColdStart(Math.Round(totalMs), Math.Round(acceptedMs), Between(acceptedAt, decided), Between(decided, processStarted),
            Between(processStarted, jobStarted), Between(jobStarted, readyAt));
    }

    private static double? Between(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } a && to is { } b ? Math.Round((b - a).TotalMilliseconds) : null;

    private static async Task<Burst> BurstAsync(string name, StorefrontClient client, byte[] photo, Pool pool, Settings settings)
    {
        var clock = Stopwatch.StartNew();
        double? toCap = null;
        var most = 0;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                var running = pool.Running().Count;
                most = Math.Max(most, running);
                if (running == settings.MaxWorkers && toCap is null)
                {
                    toCap = Math.Round(clock.Elapsed.TotalSeconds, 1);
                }

                await Task.Delay(100);
            }
        });
        var next = 0;
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, settings.Clients).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= settings.BurstUploads)
            {
                var (_, _, id) = await UploadAndWaitAsync(client, photo);
                if (id == Guid.Empty)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        await watching.CancelAsync();
        await watcher;
        return new Burst(name, settings.BurstUploads, settings.Clients, Math.Round(seconds, 1), Math.Round(settings.BurstUploads / seconds, 2), failed, toCap, most);
    }

    /// <summary>Upload, then poll every 50 ms until Ready or Failed; the id is empty when it was refused or failed.</summary>
    private static async Task<(double TotalMs, double AcceptedMs, Guid Id)> UploadAndWaitAsync(StorefrontClient client, byte[] photo)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.UploadAsync(photo, Photo);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, double.NaN, Guid.Empty);
        }

        var acceptedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var accepted = (await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            var upload = await client.GetUploadAsync(accepted.Id);
            if (upload.Status is "Ready" or "Failed")
            {
                return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, acceptedMs, upload.Status == "Ready" ? accepted.Id : Guid.Empty);
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    private static async Task<JsonElement> ReadAsync(StorefrontClient client, string path)
    {
        using var response = await client.GetAsAdminAsync(path);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
