using System.Text;
using Reference.Bench.EndToEnd;
using Reference.Bench.Engine;
using Reference.Bench.Gateway;

namespace Reference.Bench.Report;

public static partial class MarkdownReport
{
    private static string EngineSection(BenchResults results)
    {
        if (results.Get<EngineBench.Result>("engine") is not { } engine)
        {
            return "_Not run yet._";
        }

        var engines = engine.Images.Select(i => i.Engine).Distinct().ToList();
        var sb = new StringBuilder();
        sb.AppendLine($"Median of {engine.Runs} warm runs ({engine.Warmups} warm-ups) per image and engine, ms per job; peak RSS of a process that ran only that job (MB, whole process).");
        sb.AppendLine();
        sb.AppendLine("| image | " + string.Join(" | ", engines.Select(e => $"{e} ms")) + " | imagesharp ÷ libvips | " + string.Join(" | ", engines.Select(e => $"{e} peak MB")) + " |");
        sb.AppendLine("| --- | " + string.Join(" | ", engines.Select(_ => "---:")) + " | ---: | " + string.Join(" | ", engines.Select(_ => "---:")) + " |");
        foreach (var image in engine.Images.Select(i => i.Image).Distinct())
        {
            var row = engines.Select(e => engine.Images.Single(i => i.Image == image && i.Engine == e)).ToList();
            var sharp = row.FirstOrDefault(r => r.Engine == EngineBench.ImageSharp)?.MedianMs ?? double.NaN;
            var vips = row.FirstOrDefault(r => r.Engine == EngineBench.LibVips)?.MedianMs ?? double.NaN;
            sb.AppendLine($"| {image} | " + string.Join(" | ", row.Select(r => F(r.MedianMs, "0"))) + $" | {F(sharp / vips, "0.00")}× | "
                + string.Join(" | ", row.Select(r => r.PeakRssMb is { } p ? F(p, "0") : "–")) + " |");
        }

        var corpusSharp = engine.CorpusMs.GetValueOrDefault(EngineBench.ImageSharp, double.NaN);
        var corpusVips = engine.CorpusMs.GetValueOrDefault(EngineBench.LibVips, double.NaN);
        sb.AppendLine("| **corpus (sum)** | " + string.Join(" | ", engines.Select(e => "**" + F(engine.CorpusMs[e], "0") + "**")) +
            $" | **{F(corpusSharp / corpusVips, "0.00")}×** | " + string.Join(" | ", engines.Select(_ => "")) + " |");
        sb.AppendLine();
        sb.AppendLine("![ms per job, per corpus image and engine](images/engine-ms-per-job.svg)");
        return sb.ToString();
    }

    private static string ScalingSection(BenchResults results)
    {
        if (results.Get<ScalingBench.Result>("scaling") is not { } scaling)
        {
            return "_Not run yet._";
        }

        var sb = new StringBuilder();
        sb.AppendLine($"{scaling.Rounds} rounds of {F(scaling.SecondsPerRun, "0")} s per configuration, jobs cycling over the corpus, mean of the rounds.");
        sb.AppendLine();
        sb.AppendLine("| engine | 1 process, jobs/s | 2 processes, jobs/s | speed-up |");
        sb.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var s in scaling.Engines)
        {
            sb.AppendLine($"| {s.Engine} | {F(s.OneProcessJobsPerSecond, "0.00")} | {F(s.TwoProcessJobsPerSecond, "0.00")} | {F(s.Speedup, "0.00")}× |");
        }

        return sb.ToString();
    }

    private static string EndToEndSection(BenchResults results)
    {
        var runs = new[] { "e2e-imagesharp", "e2e-libvips" }.Select(results.Get<EndToEndBench.Result>).Where(r => r is not null).Cast<EndToEndBench.Result>().ToList();
        if (runs.Count == 0)
        {
            return "_Not run yet._";
        }

        var scaling = results.Get<ScalingBench.Result>("scaling");
        var sb = new StringBuilder();
        sb.AppendLine("Every upload is timed from the start of its POST until a GET of its status URL, **polled every 20 ms**, says Ready (the polling costs the front end CPU). The load driver runs on the same 2 cores.");
        sb.AppendLine();
        sb.AppendLine("| | " + string.Join(" | ", runs.Select(r => r.Engine)) + " |");
        sb.AppendLine("| --- | " + string.Join(" | ", runs.Select(_ => "---:")) + " |");
        string Row(string label, Func<EndToEndBench.Result, string> cell) => $"| {label} | " + string.Join(" | ", runs.Select(cell)) + " |";
        sb.AppendLine(Row("uploads at 8 clients, jobs/s", r => F(r.Load?.JobsPerSecond ?? double.NaN, "0.00")));
        sb.AppendLine(Row("… p50 / p95 / p99 ms", r => r.Load is { } l ? $"{F(l.Latency.P50Ms, "0")} / {F(l.Latency.P95Ms, "0")} / {F(l.Latency.P99Ms, "0")}" : "–"));
        sb.AppendLine(Row("… uploads (failed)", r => r.Load is { } l ? $"{l.Completed} ({l.Latency.Failed}) in {F(l.Seconds, "0")} s" : "–"));
        sb.AppendLine(Row("raw pipeline, 2 processes, jobs/s", r => F(scaling?.Engines.FirstOrDefault(s => string.Equals(s.Engine, r.Engine, StringComparison.OrdinalIgnoreCase))?.TwoProcessJobsPerSecond ?? double.NaN, "0.00")));
        sb.AppendLine(Row("end to end ÷ raw", r =>
        {
            var raw = scaling?.Engines.FirstOrDefault(s => string.Equals(s.Engine, r.Engine, StringComparison.OrdinalIgnoreCase))?.TwoProcessJobsPerSecond;
            return r.Load is { } l && raw is { } v ? F(100 * l.JobsPerSecond / v, "0") + "%" : "–";
        }));
        sb.AppendLine(Row("one 2560×1600 JPEG on an idle system, p50 / p95 ms", r => r.Single is { } s ? $"{F(s.P50Ms, "0")} / {F(s.P95Ms, "0")} ({s.Count} uploads)" : "–"));
        sb.AppendLine(Row("… of which the upload request until 202, p50 ms", r => r.Single is { } s ? F(s.AcceptedP50Ms, "0") : "–"));
        sb.AppendLine(Row("worker peak RSS, 14.7 MP photo, 2 jobs per worker, MB", r => r.WorkerMemory is { } m ? string.Join(" / ", m.Select(w => F(w.PeakRssMb, "0"))) : "–"));
        sb.AppendLine(Row("AppHost start to all healthy, s", r => F(r.StartSeconds, "0")));
        sb.AppendLine(Row("replicas of each API", r => r.ApiReplicas > 0 ? r.ApiReplicas.ToString(Invariant) : "2"));
        sb.AppendLine(Row("first 200 uploads after start (cold), jobs/s, p50 ms", r => r.Cold is { } c ? $"{F(c.JobsPerSecond, "0.00")}, {F(c.Latency.P50Ms, "0")}" : "–"));
        sb.AppendLine(Row("cold ÷ warm jobs/s", r => r.Cold is { } c && r.Load is { } l ? F(100 * c.JobsPerSecond / l.JobsPerSecond, "0") + "%" : "–"));
        sb.AppendLine(Row("WebP passes the workers did beside the uploads, cold / warm", r => $"{r.Cold?.WebpPasses?.ToString(Invariant) ?? "–"} / {r.Load?.WebpPasses?.ToString(Invariant) ?? "–"}"));
        if (runs.Any(r => r.ColdWorkers is not null || r.ColdFront is not null))
        {
            sb.AppendLine(Row("… after restarting only the workers ÷ warm", r => r.ColdWorkers is { } c && r.Load is { } l ? F(100 * c.JobsPerSecond / l.JobsPerSecond, "0") + "%" : "–"));
            sb.AppendLine(Row("… after restarting only the gateway and the APIs ÷ warm", r => r.ColdFront is { } c && r.Load is { } l ? F(100 * c.JobsPerSecond / l.JobsPerSecond, "0") + "%" : "–"));
        }

        sb.Append(ProcessTables(results.Root.Select(kv => kv.Key).Where(k => k.StartsWith("e2e-", StringComparison.Ordinal)).Order()
            .Select(k => (k, results.Get<EndToEndBench.Result>(k)!)).ToList()));
        return sb.ToString();
    }

    private static string GatewaySection(BenchResults results)
    {
        if (results.Get<GatewayBench.Result>("gateway") is not { } gateway)
        {
            return "_Not run yet._";
        }

        var sb = new StringBuilder();
        sb.AppendLine($"`{gateway.WrkCommand}`, {gateway.Rounds} rounds in alternating order, median of the rounds.");
        sb.AppendLine();
        sb.AppendLine("| proxy | req/s | p50 ms | p99 ms | req/s ÷ nginx | p99 ÷ nginx | errors |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var t in gateway.Targets)
        {
            sb.AppendLine($"| {t.Target}: {t.Description} | {F(t.RequestsPerSecond, "0")} | {F(t.P50Ms, "0.00")} | {F(t.P99Ms, "0.00")} | {F(t.RequestsVersusNginx, "0.00")}× | {F(t.P99VersusNginx, "0.00")}× | {t.Errors} |");
        }

        return sb.ToString();
    }

    private static string InventorySection(BenchResults results)
    {
        var cached = Inventory(results, cache: true);
        var uncached = Inventory(results, cache: false);
        if (cached is null && uncached is null)
        {
            return "_Not run yet._";
        }

        var sb = new StringBuilder();
        sb.AppendLine("`GET /api/inventory/products/{id}` through the gateway, cycling over the 24 demo products. Fixed rate: open-loop, latency from each request's scheduled time (bench/Bench/Load/FixedRateLoad.cs), after a 15 s warm-up at the same rate. Flat out: wrk, closed-loop. Telemetry as deploy/compose.yaml ships it (1 trace in 10).");
        sb.AppendLine();
        sb.AppendLine("| product cache | fixed rate, req/s | p50 ms | p90 ms | p99 ms | errors / dropped | flat out req/s (wrk -c16) | flat out p99 ms |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in new[] { cached, uncached })
        {
            if (r is null)
            {
                continue;
            }

            sb.AppendLine($"| {(r.Cache ? "on" : "off")} | {F(r.FixedRate.AchievedRate, "0")} | {F(r.FixedRate.P50Ms, "0.00")} | {F(r.FixedRate.P90Ms, "0.00")} | {F(r.FixedRate.P99Ms, "0.00")} | {r.FixedRate.Errors} / {r.FixedRate.Dropped} | {F(r.MaxThroughput.RequestsPerSecond, "0")} | {F(r.MaxThroughput.P99Ms, "0.0")} |");
        }

        if (cached is not null && uncached is not null)
        {
            sb.AppendLine();
            sb.AppendLine($"Cached ÷ uncached flat-out throughput: {F(cached.MaxThroughput.RequestsPerSecond / uncached.MaxThroughput.RequestsPerSecond, "0.0")}×.");
        }

        var withCpu = new[] { cached, uncached }.Where(r => r?.CpuMsPerRequest is not null).ToList();
        if (withCpu.Count > 0)
        {
            // Replicas summed: what one read costs each service, wherever it was balanced to.
            static string Part(string name) => name.Contains('-') && char.IsDigit(name[^1]) ? name[..name.LastIndexOf('-')] : name;
            var parts = withCpu.SelectMany(r => r!.CpuMsPerRequest!.Keys.Select(Part)).Distinct()
                .Where(p => withCpu.Any(r => Sum(r!, p) >= 0.005)).ToList();
            sb.AppendLine();
            sb.AppendLine("CPU ms per read during the fixed-rate run, per process (replicas summed; `bench` is the load driver with the AppHost host):");
            sb.AppendLine();
            sb.AppendLine("| product cache | " + string.Join(" | ", parts) + " | total |");
            sb.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", parts.Count + 1)));
            foreach (var r in withCpu)
            {
                sb.AppendLine($"| {(r!.Cache ? "on" : "off")} | " + string.Join(" | ", parts.Select(p => F(Sum(r, p), "0.00")))
                    + $" | {F(r.CpuMsPerRequest!.Values.Sum(), "0.00")} |");
            }

            double Sum(EndToEndBench.InventoryReads r, string part) =>
                r.CpuMsPerRequest!.Where(kv => Part(kv.Key) == part).Sum(kv => kv.Value);
        }

        return sb.ToString();
    }
}
