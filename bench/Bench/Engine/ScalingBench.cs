using System.Diagnostics;
using System.Text.Json;
using Reference.Bench.Report;

namespace Reference.Bench.Engine;

/// <summary>
/// Raw pipeline throughput: 1 and then 2 worker-like processes, each running jobs one after
/// another over the corpus (single-threaded, as the worker runs each job), all started together
/// after their warm-up. Rounds alternate the order of the 1- and 2-process runs.
/// </summary>
public static class ScalingBench
{
    public sealed record Run(string Engine, int Processes, int Jobs, double Seconds, double JobsPerSecond, double Load);

    public sealed record EngineScaling(string Engine, double OneProcessJobsPerSecond, double TwoProcessJobsPerSecond, double Speedup);

    public sealed record Result(double SecondsPerRun, int Rounds, IReadOnlyList<Run> Runs, IReadOnlyList<EngineScaling> Engines);

    public sealed record ChildResult(int Jobs, double Seconds);

    public static Result Measure(IReadOnlyList<string> images, IReadOnlyList<string> engines, double seconds, int rounds, Action<string> log)
    {
        var runs = new List<Run>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var engine in engines)
            {
                int[] order = round % 2 == 0 ? [1, 2] : [2, 1];
                foreach (var processes in order)
                {
                    var run = RunProcesses(images, engine, processes, seconds);
                    runs.Add(run);
                    log($"scaling: {engine} x{processes}: {run.JobsPerSecond:0.00} jobs/s (load {run.Load:0.0})");
                }
            }
        }

        var summary = engines.Select(engine =>
        {
            var one = runs.Where(r => r.Engine == engine && r.Processes == 1).Average(r => r.JobsPerSecond);
            var two = runs.Where(r => r.Engine == engine && r.Processes == 2).Average(r => r.JobsPerSecond);
            return new EngineScaling(engine, Math.Round(one, 2), Math.Round(two, 2), Math.Round(two / one, 2));
        }).ToList();
        return new Result(seconds, rounds, runs, summary);
    }

    private static Run RunProcesses(IReadOnlyList<string> images, string engine, int processes, double seconds)
    {
        var load = Machine.LoadAverage();
        var children = Enumerable.Range(0, processes)
            .Select(i => SelfProcess.Start("engine-loop", "--engine", engine, "--seconds", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--offset", (i * 5).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--images", string.Join(',', images.Select(Path.GetFileName))))
            .ToList();
        try
        {
            foreach (var child in children)
            {
                SelfProcess.ReadLineStartingWith(child, "READY", TimeSpan.FromMinutes(2));
            }

            foreach (var child in children)
            {
                child.StandardInput.WriteLine("go");
                child.StandardInput.Flush();
            }

            var results = children
                .Select(c => JsonSerializer.Deserialize<ChildResult>(SelfProcess.ReadLineStartingWith(c, "RESULT ", TimeSpan.FromSeconds(seconds + 60)), BenchResults.Json)!)
                .ToList();
            var jobsPerSecond = results.Sum(r => r.Jobs / r.Seconds);
            return new Run(engine, processes, results.Sum(r => r.Jobs), seconds, Math.Round(jobsPerSecond, 2), load);
        }
        finally
        {
            foreach (var child in children)
            {
                child.WaitForExit(10_000);
                child.Dispose();
            }
        }
    }

    /// <summary>The child: warm up over the corpus, wait for "go", then run jobs until the time is up.</summary>
    public static void LoopChild(Args args, IReadOnlyList<string> images)
    {
        using var bench = new EngineBench.Workbench(images);
        var job = bench.Job(args.Get("engine", EngineBench.ImageSharp));
        var names = images.Select(Path.GetFileName).ToList();
        foreach (var name in names)
        {
            job(name!);
        }

        Console.WriteLine("READY");
        Console.ReadLine();
        var seconds = args.Get("seconds", 10.0);
        var next = args.Get("offset", 0);
        var jobs = 0;
        var started = Stopwatch.GetTimestamp();
        // A job that starts is finished: the count is whole jobs over the time they took.
        while (Stopwatch.GetElapsedTime(started).TotalSeconds < seconds)
        {
            job(names[next++ % names.Count]!);
            jobs++;
        }

        Console.WriteLine("RESULT " + JsonSerializer.Serialize(new ChildResult(jobs, Stopwatch.GetElapsedTime(started).TotalSeconds), BenchResults.Line));
    }
}
