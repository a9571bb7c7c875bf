using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Reference.Bench.EndToEnd;
using Reference.Bench.Engine;
using Reference.Bench.Gateway;
using Reference.Tests.Support;

namespace Reference.Bench.Report;

/// <summary>
/// Rewrites the generated parts of docs/performance.md (between <c>&lt;!-- bench:NAME --&gt;</c> and
/// <c>&lt;!-- /bench:NAME --&gt;</c>) from a results file, and draws the engine chart.
/// The prose around them is written by people and left alone.
/// </summary>
public static partial class MarkdownReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string DocsFolder => Path.Combine(RepoPaths.Root, "docs");

    /// <param name="only">The sections to rewrite (a benchmark run alone, with its own results file); null for all.</param>
    public static void Write(BenchResults results, string docs, Action<string> log, IReadOnlyCollection<string>? only = null)
    {
        var path = Path.Combine(docs, "performance.md");
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Performance\n";
        var sections = new Dictionary<string, string>
        {
            ["run"] = RunSection(results),
            ["goals"] = GoalsSection(results),
            ["engine"] = EngineSection(results),
            ["scaling"] = ScalingSection(results),
            ["e2e"] = EndToEndSection(results),
            ["gateway"] = GatewaySection(results),
            ["inventory"] = InventorySection(results),
            ["pages"] = PagesSection(results),
        };
        foreach (var (name, body) in sections.Where(s => only is null || only.Contains(s.Key)))
        {
            var block = $"<!-- bench:{name} -->\n{body.TrimEnd()}\n<!-- /bench:{name} -->";
            var pattern = new Regex($@"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", RegexOptions.Singleline);
            text = pattern.IsMatch(text) ? pattern.Replace(text, block.Replace("$", "$$", StringComparison.Ordinal)) : text + "\n" + block + "\n";
        }

        File.WriteAllText(path, text);
        if (results.Get<EngineBench.Result>("engine") is { } engine)
        {
            Directory.CreateDirectory(Path.Combine(docs, "images"));
            File.WriteAllText(Path.Combine(docs, "images", "engine-ms-per-job.svg"), Chart.EngineBars(engine));
        }

        log($"report: wrote {path}");
    }

    private static string F(double value, string format = "0.#") => double.IsNaN(value) ? "–" : value.ToString(format, Invariant);

    private static string RunSection(BenchResults results)
    {
        var machine = results.Get<MachineInfo>("machine");
        var sb = new StringBuilder();
        sb.AppendLine($"Results file: `bench/results/{Path.GetFileName(results.Path)}`. Last written {machine?.Date} at commit " +
            $"`{machine?.Commit ?? "unknown"}`{(machine?.Dirty == true ? " **with uncommitted changes**" : "")}; " +
            $"{machine?.Cores} cores (`nproc`), CPU \"{machine?.Cpu}\", {machine?.Os}, .NET {machine?.Dotnet}.");
        sb.AppendLine();
        sb.AppendLine("| benchmark | 1-min load average before → after |");
        sb.AppendLine("| --- | --- |");
        if (results.Get<EngineBench.Result>("engine") is { } e)
        {
            sb.AppendLine($"| engine | {F(e.LoadBefore, "0.0")} → {F(e.LoadAfter, "0.0")} |");
        }

        if (results.Get<ScalingBench.Result>("scaling") is { } s)
        {
            sb.AppendLine($"| scaling | {string.Join(", ", s.Runs.Select(r => F(r.Load, "0.0")))} (at the start of each run) |");
        }

        if (results.Get<GatewayBench.Result>("gateway") is { } g)
        {
            sb.AppendLine($"| gateway | {string.Join(", ", g.Runs.Select(r => F(r.Load, "0.0")))} (at the start of each run) |");
        }

        foreach (var name in new[] { "e2e-imagesharp", "e2e-libvips" })
        {
            if (results.Get<EndToEndBench.Result>(name) is { } r)
            {
                sb.AppendLine($"| {name} | {F(r.LoadBefore, "0.0")} → {F(r.LoadAfter, "0.0")} |");
            }
        }

        return sb.ToString();
    }

    private static string Met(bool met) => met ? "met" : "**missed**";

    private static string GoalsSection(BenchResults results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| goal | measured | |");
        sb.AppendLine("| --- | --- | --- |");
        var engine = results.Get<EngineBench.Result>("engine");
        if (engine is not null && engine.CorpusMs.TryGetValue(EngineBench.ImageSharp, out var sharp) && engine.CorpusMs.TryGetValue(EngineBench.LibVips, out var vips))
        {
            var ratio = sharp / vips;
            sb.AppendLine($"| ImageSharp ≤ 1.3× libvips per job over the corpus | {F(ratio, "0.00")}× ({F(sharp, "0")} vs {F(vips, "0")} ms per corpus pass; first version {F(engine.CorpusMs.GetValueOrDefault(EngineBench.FirstVersion, double.NaN), "0")} ms) | {Met(ratio <= 1.3)}; libvips is the default `Images:Engine` since round two |");
        }

        var scaling = results.Get<ScalingBench.Result>("scaling");
        foreach (var s in scaling?.Engines ?? [])
        {
            sb.AppendLine($"| 1 → 2 worker processes ≥ 1.8× ({s.Engine}) | {F(s.Speedup, "0.00")}× ({F(s.OneProcessJobsPerSecond, "0.00")} → {F(s.TwoProcessJobsPerSecond, "0.00")} jobs/s) | {Met(s.Speedup >= 1.8)} |");
        }

        foreach (var name in new[] { "e2e-imagesharp", "e2e-libvips" })
        {
            if (results.Get<EndToEndBench.Result>(name) is not { } r)
            {
                continue;
            }

            var raw = scaling?.Engines.FirstOrDefault(s => string.Equals(s.Engine, r.Engine, StringComparison.OrdinalIgnoreCase))?.TwoProcessJobsPerSecond;
            if (r.Load is { } load)
            {
                if (raw is { } rawJobs)
                {
                    sb.AppendLine($"| end to end ≥ 80% of the raw pipeline ({r.Engine}) | {F(load.JobsPerSecond, "0.00")} vs {F(rawJobs, "0.00")} jobs/s = {F(100 * load.JobsPerSecond / rawJobs, "0")}% | {Met(load.JobsPerSecond >= 0.8 * rawJobs)} |");
                }

            }

            if (r.Single is { } single)
            {
                sb.AppendLine($"| one 2560×1600 JPEG Ready < 150 ms p50 (issue 4: < 300 ms) ({r.Engine}) | {F(single.P50Ms, "0")} ms | {Met(single.P50Ms < 150)}{(single.P50Ms < 300 ? "; issue 4's 300 ms met" : "")} |");
            }

            if (r.WorkerMemory is { Count: > 0 } memory)
            {
                var peak = memory.Max(m => m.PeakRssMb);
                sb.AppendLine($"| worker peak RSS on the 14.7 MP photo < 400 MB ({r.Engine}) | {F(peak, "0")} MB | {Met(peak < 400)} |");
            }
        }

        if (results.Get<GatewayBench.Result>("gateway") is { } g && g.Targets.FirstOrDefault(t => t.Target == "gateway") is { } gw)
        {
            sb.AppendLine($"| gateway ≥ 0.7× nginx req/s | {F(gw.RequestsVersusNginx, "0.00")}× | {Met(gw.RequestsVersusNginx >= 0.7)} |");
            sb.AppendLine($"| gateway p99 ≤ 2× nginx | {F(gw.P99VersusNginx, "0.00")}× | {Met(gw.P99VersusNginx <= 2)} |");
        }

        var cached = Inventory(results, cache: true);
        var uncached = Inventory(results, cache: false);
        if (cached is not null)
        {
            sb.AppendLine($"| cached product reads p99 < 5 ms at 1,000 req/s | {F(cached.FixedRate.P99Ms, "0.0")} ms | {Met(cached.FixedRate.P99Ms < 5)} |");
        }

        if (cached is not null && uncached is not null)
        {
            var ratio = cached.MaxThroughput.RequestsPerSecond / uncached.MaxThroughput.RequestsPerSecond;
            sb.AppendLine($"| cached ≥ 5× uncached max throughput | {F(ratio, "0.0")}× | {Met(ratio >= 5)} |");
        }

        return sb.ToString();
    }

    private static EndToEndBench.InventoryReads? Inventory(BenchResults results, bool cache) =>
        new[] { "e2e-imagesharp", "e2e-libvips" }.Select(results.Get<EndToEndBench.Result>)
            .Select(r => r?.Inventory).FirstOrDefault(i => i is not null && i.Cache == cache);
}
