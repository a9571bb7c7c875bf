using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reference.Bench.Report;

namespace Reference.Bench.Engine;

/// <summary>
/// A fresh worker's first jobs against its warm ones, per runtime setting: each round starts one new
/// process per setting (in a rotating order) that runs <c>--jobs</c> jobs over the corpus from its
/// first instruction, then the same jobs three more times, timing the first and the last pass in
/// CPU (the JIT's background threads included) and wall time. Read <b>warm ÷ first</b> (the goal: ≥ 80%).
/// </summary>
public static class ColdStartBench
{
    /// <param name="Environment">The runtime variables the child gets; <paramref name="Dll"/> another build of this program (ReadyToRun).</param>
    public sealed record Variant(string Name, string Description, IReadOnlyDictionary<string, string> Environment, string? Dll = null);

    public sealed record ChildResult(double FirstCpuMs, double FirstWallMs, double WarmCpuMs, double WarmWallMs);

    public sealed record Row(string Variant, string Description, double FirstCpuMs, double WarmCpuMs, double FirstWallMs, double WarmWallMs,
        double WarmOverFirstCpu, double WarmOverFirstWall);

    public sealed record Result(string Engine, int Jobs, int Rounds, double LoadBefore, double LoadAfter, IReadOnlyList<Row> Variants);

    public static IReadOnlyList<Variant> Variants(string? readyToRunDll)
    {
        var variants = new List<Variant>
        {
            new("default", "the runtime's defaults (tiered, quick JIT for loops with OSR, dynamic PGO)", new Dictionary<string, string>()),
            new("no-pgo", "DOTNET_TieredPGO=0", new Dictionary<string, string> { ["DOTNET_TieredPGO"] = "0" }),
            new("no-quick-loops", "DOTNET_TC_QuickJitForLoops=0 (methods with loops fully optimised at once)", new Dictionary<string, string> { ["DOTNET_TC_QuickJitForLoops"] = "0" }),
            new("tier-up-now", "DOTNET_TC_CallCountingDelayMs=0 (no 100 ms wait before counting calls)", new Dictionary<string, string> { ["DOTNET_TC_CallCountingDelayMs"] = "0" }),
            new("no-quick-jit", "DOTNET_TC_QuickJit=0 (code without ReadyToRun code compiled optimised at once; the framework's still tiers up)", new Dictionary<string, string> { ["DOTNET_TC_QuickJit"] = "0" }),
            new("no-tiering", "DOTNET_TieredCompilation=0 (everything fully optimised at first call)", new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" }),
        };
        if (readyToRunDll is not null)
        {
            variants.Add(new("r2r", "this program published with PublishReadyToRun (ImageSharp precompiled)", new Dictionary<string, string>(), readyToRunDll));
            variants.Add(new("r2r-no-quick-loops", "… and DOTNET_TC_QuickJitForLoops=0", new Dictionary<string, string> { ["DOTNET_TC_QuickJitForLoops"] = "0" }, readyToRunDll));
        }

        return variants;
    }

    public static Result Measure(IReadOnlyList<string> images, string engine, int jobs, int rounds, IReadOnlyList<Variant> variants, Action<string> log)
    {
        var loadBefore = Machine.LoadAverage();
        var runs = variants.ToDictionary(v => v.Name, _ => new List<ChildResult>());
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < variants.Count; i++)
            {
                var variant = variants[(i + round) % variants.Count];
                var result = RunChild(variant, images, engine, jobs);
                runs[variant.Name].Add(result);
                log($"cold: {variant.Name}: first {jobs} jobs {result.FirstCpuMs:0} ms CPU, warm {result.WarmCpuMs:0} ms CPU ({100 * result.WarmCpuMs / result.FirstCpuMs:0}%)");
            }
        }

        var rows = variants.Select(v =>
        {
            var r = runs[v.Name];
            double Med(Func<ChildResult, double> f) => Math.Round(Stats.Median(r.Select(f).ToList()));
            var (firstCpu, warmCpu, firstWall, warmWall) = (Med(x => x.FirstCpuMs), Med(x => x.WarmCpuMs), Med(x => x.FirstWallMs), Med(x => x.WarmWallMs));
            return new Row(v.Name, v.Description, firstCpu, warmCpu, firstWall, warmWall, Math.Round(warmCpu / firstCpu, 2), Math.Round(warmWall / firstWall, 2));
        }).ToList();
        return new Result(engine, jobs, rounds, loadBefore, Machine.LoadAverage(), rows);
    }

    private static ChildResult RunChild(Variant variant, IReadOnlyList<string> images, string engine, int jobs)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     variant.Dll ?? typeof(ColdStartBench).Assembly.Location, "engine-cold-child", "--engine", engine,
                     "--jobs", jobs.ToString(CultureInfo.InvariantCulture), "--images", string.Join(',', images.Select(Path.GetFileName)),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in variant.Environment)
        {
            start.Environment[key] = value;
        }

        using var child = Process.Start(start)!;
        var result = JsonSerializer.Deserialize<ChildResult>(SelfProcess.ReadLineStartingWith(child, "RESULT ", TimeSpan.FromMinutes(5)), BenchResults.Json)!;
        child.WaitForExit(10_000);
        return result;
    }

    /// <summary>The child: <c>--jobs</c> jobs from a cold start, then three passes more; the first and the last timed.</summary>
    public static void Child(Args args, IReadOnlyList<string> images)
    {
        using var bench = new EngineBench.Workbench(images);
        var job = bench.Job(args.Get("engine", EngineBench.ImageSharp));
        var names = images.Select(p => Path.GetFileName(p)!).ToList();
        var jobs = args.Get("jobs", 20);
        (double CpuMs, double WallMs) Pass()
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < jobs; i++)
            {
                job(names[i % names.Count]);
            }

            return ((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var first = Pass();
        Pass();
        Pass();
        var warm = Pass();
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(new ChildResult(first.CpuMs, first.WallMs, warm.CpuMs, warm.WallMs), BenchResults.Line));
    }
}
