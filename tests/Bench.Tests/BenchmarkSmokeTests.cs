using Reference.Bench.Engine;
using Reference.Bench.Gateway;
using Reference.Bench.Load;
using Reference.Bench.Pages;
using Reference.Bench.Report;
using Reference.Tests.Support;

namespace Reference.Bench.Tests;

/// <summary>
/// Each benchmark of bench/ run with the smallest counts: it starts, does its work and reports
/// figures. How fast is not asserted here (that is what bench/run.sh records); the end-to-end
/// benchmark starts the whole AppHost and is left to bench/run.sh.
/// </summary>
public sealed class BenchmarkSmokeTests
{
    private static readonly string SmallImage = Corpus.Path("flow-720x1440-portrait.jpg");

    [Fact]
    public void The_engine_benchmark_times_every_engine_and_measures_peak_memory_in_a_child_process()
    {
        var result = EngineBench.Run([SmallImage], EngineBench.DefaultEngines, runs: 1, warmups: 0, memory: true, _ => { });

        Assert.Equal(EngineBench.DefaultEngines.Order(), result.Images.Select(i => i.Engine).Order());
        Assert.All(result.Images, image =>
        {
            Assert.Equal("flow-720x1440-portrait.jpg", image.Image);
            Assert.True(image.MedianMs > 0);
            Assert.True(image.PeakRssMb > 0, $"{image.Engine} reported no peak memory.");
        });
    }

    [Fact]
    public void The_scaling_benchmark_counts_jobs_of_one_and_two_worker_processes()
    {
        var result = ScalingBench.Measure([SmallImage], [EngineBench.LibVips], seconds: 0.5, rounds: 1, _ => { });

        Assert.Equal([1, 2], result.Runs.Select(r => r.Processes).Order());
        Assert.All(result.Runs, run => Assert.True(run.Jobs > 0, $"{run.Processes} process(es) finished no job."));
        Assert.True(result.Engines.Single().Speedup > 0);
    }

    [Fact]
    public void The_cold_benchmark_times_a_fresh_process_first_and_warm_jobs_under_each_runtime_setting()
    {
        var variants = ColdStartBench.Variants(readyToRunDll: null).Where(v => v.Name is "default" or "no-quick-jit").ToList();
        var result = ColdStartBench.Measure([SmallImage], EngineBench.LibVips, jobs: 1, rounds: 1, variants, _ => { });

        Assert.Equal(["default", "no-quick-jit"], result.Variants.Select(v => v.Variant));
        Assert.All(result.Variants, v => Assert.True(v.FirstCpuMs > 0 && v.WarmCpuMs > 0, $"{v.Variant} timed no job."));
    }

    [SkippableFact]
    public async Task The_gateway_benchmark_loads_nginx_and_the_gateway_through_the_same_backend()
    {
        Prerequisite.Require(GatewayBench.CanRun, "nginx and wrk are not installed (./dev.sh test and bench/run.sh install them).");

        var result = await GatewayBench.MeasureAsync(seconds: 1, connections: 4, rounds: 1, variants: false, _ => { });

        Assert.Equal(["nginx", "gateway"], result.Targets.Select(t => t.Target));
        Assert.All(result.Targets, t =>
        {
            Assert.True(t.RequestsPerSecond > 0, $"{t.Target} answered nothing.");
            Assert.Equal(0, t.Errors);
        });
    }

    [Fact]
    public async Task The_fixed_rate_load_sends_every_scheduled_request_and_times_it()
    {
        await using var server = await TinyServer.StartAsync();

        var result = await FixedRateLoad.RunAsync(server.Address, ["/chunked", "/sized"], rate: 200, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200));
        var notFound = await FixedRateLoad.RunAsync(server.Address, ["/missing"], rate: 100, TimeSpan.FromSeconds(0.5), TimeSpan.Zero);

        Assert.Equal(200, result.Requests);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Dropped);
        Assert.True(result.P99Ms >= result.P50Ms && result.P50Ms > 0);
        Assert.Equal((50, 50), (notFound.Requests, notFound.Errors));
    }

    [Fact]
    public void The_report_fills_the_tables_of_the_performance_page_and_draws_the_chart()
    {
        var docs = Directory.CreateTempSubdirectory("bench-docs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(docs, "performance.md"), "# Performance\n\nwritten by people\n\n<!-- bench:engine -->\nold\n<!-- /bench:engine -->\n");
            var results = BenchResults.Open(Path.Combine(docs, "results.json"));
            results.Set("engine", new EngineBench.Result(1, 0, 0.5, 0.6,
                [
                    new("a.jpg", EngineBench.ImageSharp, 130, 120, 1, 90, 40),
                    new("a.jpg", EngineBench.LibVips, 100, 95, 1, 70, 20),
                ],
                new Dictionary<string, double> { [EngineBench.ImageSharp] = 130, [EngineBench.LibVips] = 100 }));

            MarkdownReport.Write(results, docs, _ => { });

            var page = File.ReadAllText(Path.Combine(docs, "performance.md"));
            Assert.Contains("written by people", page, StringComparison.Ordinal);
            Assert.DoesNotContain("\nold\n", page, StringComparison.Ordinal);
            Assert.Contains("| a.jpg | 130 | 100 | 1.30× |", page, StringComparison.Ordinal);
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(docs, "images", "engine-ms-per-job.svg")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(docs, recursive: true);
        }
    }

    [Fact]
    public void A_benchmark_run_alone_rewrites_only_its_own_table()
    {
        var docs = Directory.CreateTempSubdirectory("bench-docs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(docs, "performance.md"),
                "<!-- bench:engine -->\nold\n<!-- /bench:engine -->\n<!-- bench:pages -->\nold\n<!-- /bench:pages -->\n");
            var results = BenchResults.Open(Path.Combine(docs, "results.json"));
            results.Set("pages", new PagesBench.Result("ImageSharp", 24, 900, 300, [new("grid", 24, 378_304, 699_854, 0.459)],
                [new WebpCost.EngineCost("ImageSharp", 10, 750, 75, 1_800_000, 900_000, 15, 1.5, 165)], 1, 1));

            MarkdownReport.Write(results, docs, _ => { }, only: ["pages"]);

            var page = File.ReadAllText(Path.Combine(docs, "performance.md"));
            Assert.Contains("<!-- bench:engine -->\nold\n", page, StringComparison.Ordinal);
            Assert.Contains("| grid | 24 | 378,304 | 699,854 | 46% |", page, StringComparison.Ordinal);
            Assert.Contains("| ImageSharp | 75 | 50% | 1.5 | 165 |", page, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(docs, recursive: true);
        }
    }
}
