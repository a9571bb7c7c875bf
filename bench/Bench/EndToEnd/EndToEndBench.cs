using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Reference.Bench.Load;
using Reference.Bench.Report;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.Bench.EndToEnd;

/// <summary>
/// The whole storefront as the AppHost starts it (local mode: MariaDB, Redis and RabbitMQ as
/// processes; 2 gateway-balanced replicas of each service, 2 image workers), on the same 2 cores as
/// the load driver. In one start: worker memory on the 14.7 MP photo, single uploads on an idle
/// system, uploads under load at a fixed concurrency, and product reads at a fixed rate.
/// </summary>
public static partial class EndToEndBench
{
    public const string AdminKey = "bench-admin-key-0123456789abcdef";

    public sealed record Settings(string Engine, bool Cache, double LoadSeconds, int Concurrency, int Singles, double Rate,
        double RateSeconds, double WrkSeconds, int MaxUploads = 5000, string Telemetry = "production",
        IReadOnlyDictionary<string, string>? ServiceEnvironment = null, double RateWarmupSeconds = 15, int ApiReplicas = 0, int ColdUploads = 200,
        bool WaitForWebp = true, double PollMs = 20)
    {
        /// <summary>How often each client asks for its upload's status (the issue's driver: every 20 ms).</summary>
        public TimeSpan PollEvery => TimeSpan.FromMilliseconds(PollMs);

        /// <summary>Replicas of each API: as the AppHost's run on this machine chooses (1 on ≤ 2 cores) unless set.</summary>
        public int Replicas => ApiReplicas > 0 ? ApiReplicas : Environment.ProcessorCount <= 2 ? 1 : 2;
    }

    /// <param name="AcceptedP50Ms">Median time to the 202 alone: the part of each latency spent in the upload request.</param>
    public sealed record Latencies(int Count, int Failed, double P50Ms, double P95Ms, double P99Ms, double MaxMs, double AcceptedP50Ms);

    public sealed record WorkerMemory(string Worker, double PeakRssMb, double RssAfterStartMb, int JobsAtOnce);

    /// <param name="CpuMsPerUpload">CPU ms each part of the system (<see cref="SystemProcesses"/>) spent per Ready upload during the run.</param>
    /// <param name="WebpPasses">Uploads' WebP passes the workers did during the run (from the backlog before and after): work beside the uploads' own.</param>
    public sealed record UploadLoad(int Concurrency, double Seconds, int Completed, double JobsPerSecond, Latencies Latency, double Load,
        IReadOnlyDictionary<string, double>? CpuMsPerUpload = null, long? WebpPasses = null);

    /// <param name="CpuMsPerRequest">CPU ms each part of the system spent per request during the fixed-rate run
    /// (warm-up included): where a read's cost goes. "bench" is this process: the load driver and the AppHost.</param>
    /// <param name="WebpDrainSeconds">How long the reads waited for the WebP pass to finish the uploads' copies.</param>
    public sealed record InventoryReads(bool Cache, FixedRateLoad.Result FixedRate, Wrk.Result MaxThroughput, string WrkCommand,
        IReadOnlyDictionary<string, double>? CpuMsPerRequest = null, double WebpDrainSeconds = 0);

    /// <param name="Cold">The first <see cref="Settings.ColdUploads"/> uploads after every service is healthy, at the load's concurrency.</param>
    /// <param name="ColdWorkers">The same first uploads after restarting only the image workers, the rest warm.</param>
    /// <param name="ColdFront">The same first uploads after restarting only the gateway and the APIs, the workers warm.</param>
    /// <param name="IdleMb">Proportional resident MB (PSS) per part (<see cref="SystemProcesses"/>) once healthy, before any upload.</param>
    public sealed record Result(string Engine, bool Cache, string PollEvery, double StartSeconds, IReadOnlyList<string> WorkerCommandLines,
        IReadOnlyList<WorkerMemory>? WorkerMemory, Latencies? Single, UploadLoad? Load, InventoryReads? Inventory, double LoadBefore, double LoadAfter,
        int ApiReplicas = 0, UploadLoad? Cold = null, IReadOnlyDictionary<string, double>? IdleMb = null,
        UploadLoad? ColdWorkers = null, UploadLoad? ColdFront = null);

    public static async Task<Result> RunAsync(Settings settings, Action<string> log, string phases = "cold,memory,single,load,inventory")
    {
        // By name, not by substring: "cold" is also in "coldworkers".
        var run = phases.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var loadBefore = Machine.LoadAverage();
        var data = Directory.CreateTempSubdirectory("bench-e2e-").FullName;
        var started = Stopwatch.GetTimestamp();
        log($"e2e: starting the AppHost (engine {settings.Engine}, cache {(settings.Cache ? "on" : "off")}, {settings.Replicas} replica(s) of each API)");
        var app = await StorefrontHost.StartAsync(data, AdminKey, builder => Configure(builder, settings),
            [$"--Replicas:InventoryApi={settings.Replicas}", $"--Replicas:UploadApi={settings.Replicas}"]);
        try
        {
            var names = app.Services.GetRequiredService<DistributedApplicationModel>().Resources
                .Where(r => r is ProjectResource or IResourceWithConnectionString && !r.Name.EndsWith("-rebuilder", StringComparison.Ordinal))
                // The databases' one-shot set-ups finish rather than become healthy.
                .Select(r => r.Name).Where(name => !StorefrontHost.IsOneShot(name)).ToList();
            await StorefrontHost.WaitUntilHealthyAsync(app, names, TimeSpan.FromMinutes(5));
            var startSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            log($"e2e: healthy after {startSeconds:0} s");
            var workers = names.Where(n => n.StartsWith("imageworker", StringComparison.Ordinal)).Order().ToList();
            var commandLines = workers.Select(w => File.ReadAllText($"/proc/{ServiceProcess.Find(app, w)}/cmdline").Replace('\0', ' ').Trim()).ToList();

            var gateway = app.GetEndpoint("gateway", "http");
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256 };
            using var http = new HttpClient(handler) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
            var client = new StorefrontClient(http, AdminKey);
            var corpus = Corpus.AllImages().Select(p => (Name: Path.GetFileName(p), Bytes: File.ReadAllBytes(p))).ToList();

            // Idle: what an F5 run holds before its first upload (the AppHost and its dashboard aside: here they are "bench").
            await Task.Delay(TimeSpan.FromSeconds(5));
            var idleMb = SystemProcesses.ProportionalMb(app).ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value));
            log("e2e: idle MB " + string.Join(", ", idleMb.Select(kv => $"{kv.Key} {kv.Value}")));

            UploadLoad? cold = null;
            if (run.Contains("cold"))
            {
                // Straight after start: every service's code still to be compiled by the JIT.
                cold = await UploadsUnderLoadAsync(app, client, corpus, settings with { LoadSeconds = 600, MaxUploads = settings.ColdUploads });
                log($"e2e: first {cold.Completed} uploads after start: {Described(cold)}");
            }

            List<WorkerMemory>? memory = null;
            if (run.Contains("memory"))
            {
                // First, while the workers' peaks are still their start-up ones: every worker busy at its
                // configured concurrency (2 jobs each on 2 cores) with the largest photo.
                var landing = corpus.Single(c => c.Name == "landing-5120x2880.jpg");
                var before = workers.ToDictionary(w => w, w => Machine.Memory(ServiceProcess.Find(app, w)).CurrentMb);
                workers.ForEach(w => Machine.ResetPeakMemory(ServiceProcess.Find(app, w)));
                var jobsAtOnce = 2 * workers.Count * Environment.ProcessorCount;
                await Task.WhenAll(Enumerable.Range(0, jobsAtOnce).Select(_ => UploadAndWaitAsync(client, landing.Bytes, landing.Name, settings.PollEvery)));
                memory = workers.Select(w => new WorkerMemory(w, Math.Round(Machine.Memory(ServiceProcess.Find(app, w)).PeakMb, 1),
                    Math.Round(before[w], 1), Environment.ProcessorCount)).ToList();
                log("e2e: worker peak RSS " + string.Join(", ", memory.Select(m => $"{m.Worker} {m.PeakRssMb} MB")));
            }

            Latencies? single = null;
            if (run.Contains("single"))
            {
                var kite = corpus.Single(c => c.Name == "kite-2560x1600.jpg");
                for (var i = 0; i < 3; i++)
                {
                    await UploadAndWaitAsync(client, kite.Bytes, kite.Name, settings.PollEvery);
                }

                var results = new List<(double Ms, bool Ready, double AcceptedMs)>();
                for (var i = 0; i < settings.Singles; i++)
                {
                    results.Add(await UploadAndWaitAsync(client, kite.Bytes, kite.Name, settings.PollEvery));
                    // Idle between uploads: the worker's and the services' background work settles.
                    await Task.Delay(200);
                }

                single = Summarise(results);
                log($"e2e: single 2560x1600 JPEG upload to Ready: p50 {single.P50Ms} ms, p95 {single.P95Ms} ms ({single.Count} uploads)");
            }

            UploadLoad? load = null;
            if (run.Contains("load"))
            {
                load = await UploadsUnderLoadAsync(app, client, corpus, settings);
                log($"e2e: {load.Concurrency} clients, p95 {load.Latency.P95Ms} ms, p99 {load.Latency.P99Ms} ms: {Described(load)}");
            }

            InventoryReads? inventory = null;
            if (run.Contains("inventory"))
            {
                // Reads alone: the uploads before left WebP copies to make (about 100 ms of a core each).
                var drained = settings.WaitForWebp ? await WaitForWebpPassAsync(client, TimeSpan.FromMinutes(10)) : (Seconds: 0, Backlog: -1);
                log($"e2e: waited {drained.Seconds} s for the WebP pass ({drained.Backlog} messages) before the reads");
                var page = await http.GetFromJsonAsync<ProductPage>("/api/inventory/products?page=1&pageSize=24", StorefrontClient.Json);
                var paths = page!.Items.Select(p => $"/api/inventory/products/{p.Id}").ToList();
                var cpuBefore = SystemProcesses.CpuSeconds(app);
                var fixedRate = await FixedRateLoad.RunAsync(gateway, paths, settings.Rate, TimeSpan.FromSeconds(settings.RateSeconds), TimeSpan.FromSeconds(settings.RateWarmupSeconds));
                var requests = settings.Rate * (settings.RateSeconds + settings.RateWarmupSeconds);
                var cpu = SystemProcesses.MsPer(cpuBefore, SystemProcesses.CpuSeconds(app), requests);
                log("e2e: CPU ms per read: " + string.Join(", ", cpu.Where(kv => kv.Value > 0.005).Select(kv => $"{kv.Key} {kv.Value}")));
                log($"e2e: product reads at {settings.Rate}/s (cache {(settings.Cache ? "on" : "off")}): p50 {fixedRate.P50Ms} ms, p99 {fixedRate.P99Ms} ms, errors {fixedRate.Errors}, dropped {fixedRate.Dropped}");
                var url = new Uri(gateway, paths[0]).ToString();
                Wrk.Run(url, 16, 2);
                var max = Wrk.Run(url, 16, settings.WrkSeconds);
                log($"e2e: product reads flat out: {max.RequestsPerSecond} req/s, p99 {max.P99Ms} ms, errors {max.Errors}");
                inventory = new InventoryReads(settings.Cache, fixedRate, max, $"wrk -t2 -c16 -d{settings.WrkSeconds}s --latency {gateway}api/inventory/products/{{id}}", cpu,
                    drained.Seconds);
            }

            var coldWorkers = run.Contains("coldworkers")
                ? await UploadsAfterRestartAsync(app, client, corpus, settings, workers, "the workers", log)
                : null;
            var front = names.Where(n => n == "gateway" || n.StartsWith("uploadapi", StringComparison.Ordinal) || n.StartsWith("inventoryapi", StringComparison.Ordinal)).ToList();
            var coldFront = run.Contains("coldfront")
                ? await UploadsAfterRestartAsync(app, client, corpus, settings, front, "the gateway and the APIs", log)
                : null;

            return new Result(settings.Engine, settings.Cache, $"{settings.PollMs} ms", Math.Round(startSeconds), commandLines,
                memory, single, load, inventory, loadBefore, Machine.LoadAverage(), settings.Replicas, cold, idleMb, coldWorkers, coldFront);
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

    private static void Configure(IDistributedApplicationTestingBuilder builder, Settings settings)
    {
        // Health checks fail, loudly, until each server is up: expected at start, noise in a benchmark's output.
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting", LogLevel.Critical));
        foreach (var resource in builder.Resources.OfType<ProjectResource>())
        {
            var environment = new Dictionary<string, string>();
            if (settings.Telemetry == "production")
            {
                // As deploy/compose.yaml ships it: one trace in ten, metrics on. Without this every
                // request is traced (Aspire's dev default, for the dashboard) and, the dashboard being
                // off under the testing host, exported into a closed port.
                environment["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio";
                environment["OTEL_TRACES_SAMPLER_ARG"] = "0.1";
                environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";
            }

            foreach (var (key, value) in settings.ServiceEnvironment ?? new Dictionary<string, string>())
            {
                environment[key] = value;
            }

            if (resource.Name.StartsWith("imageworker", StringComparison.Ordinal))
            {
                environment["Images__Engine"] = settings.Engine;
                environment["Logging__LogLevel__Default"] = "Warning";
                environment["VIPS_WARNING"] = "0";
            }
            else if (resource.Name.StartsWith("inventoryapi", StringComparison.Ordinal))
            {
                environment["Inventory__CacheProducts"] = settings.Cache ? "true" : "false";
            }
            else if (resource.Name == "gateway")
            {
                // The defaults (300 requests per 10 s, 20 uploads a minute per client) would answer a load run with 429s.
                environment["Gateway__ApiRateLimit__PermitLimit"] = "1000000000";
                environment["Gateway__UploadRateLimit__PermitLimit"] = "1000000000";
                environment["Gateway__AdminApiRateLimit__PermitLimit"] = "1000000000";
                environment["Gateway__AdminUploadRateLimit__PermitLimit"] = "1000000000";
            }

            if (environment.Count > 0)
            {
                resource.Annotations.Add(new EnvironmentCallbackAnnotation((EnvironmentCallbackContext context) =>
                {
                    foreach (var (key, value) in environment)
                    {
                        context.EnvironmentVariables[key] = value;
                    }
                }));
            }
        }
    }

    /// <summary>One upload run for the log: throughput, median, failures, the WebP passes beside it and where the CPU went.</summary>
    private static string Described(UploadLoad run) =>
        $"{run.JobsPerSecond} jobs/s, p50 {run.Latency.P50Ms} ms, failed {run.Latency.Failed}, {run.WebpPasses} WebP passes beside them; CPU ms per upload "
        + string.Join(", ", run.CpuMsPerUpload!.Select(kv => $"{kv.Key} {kv.Value}"));

    private sealed record ProductPage(IReadOnlyList<ProductDto> Items);
}
